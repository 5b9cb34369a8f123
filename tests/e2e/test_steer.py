"""Retry policy, dead letters, manual retry/replay/cancel and delayed jobs, through the real stack."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from tests.conftest import Stack
from tests.e2e.test_crash import wait_for

FAIL_FIRST_3 = "if (ctx.attempt <= 3) throw new Error('attempt ' + ctx.attempt); return 'ok at ' + ctx.attempt"


def get(stack: Stack, job_id: int) -> dict[str, Any]:
    with stack.client() as c:
        out: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        return out


def until(stack: Stack, job_id: int, status: str, timeout: float = 30) -> dict[str, Any]:
    return wait_for(lambda: (j := get(stack, job_id))["status"] == status and j, timeout=timeout,  # type: ignore[no-any-return]
                    what=f"job {job_id} {status}")


def test_user_errors_retry_with_backoff_then_dead_letter_then_replay(stack: Stack) -> None:
    job = stack.submit({"code": FAIL_FIRST_3, "retry_on_error": True, "max_attempts": 3}, wait=0)
    dead = until(stack, job["job_id"], "dead")
    assert dead["attempts"] == 3 and dead["error"]["message"] == "attempt 3"
    evs = dead["events"]
    assert [e["to_status"] for e in evs] == ["queued", "running", "retrying", "running", "retrying", "running", "dead"]
    # Each retry waited at least half its backoff (base 0.2 s, doubling) after the failure.
    at = [datetime.fromisoformat(e["at"]) for e in evs]
    assert (at[3] - at[2]).total_seconds() >= 0.1
    assert (at[5] - at[4]).total_seconds() >= 0.2
    assert evs[2]["detail"]["run_at"] and evs[2]["detail"]["error"] == "attempt 1"
    with stack.client() as c:
        letters = c.get("/api/dead-letters").json()["messages"]
        mine = [m for m in letters if m["message"]["job_id"] == job["job_id"]]
        assert len(mine) == 1
        assert c.post(f"/api/jobs/{job['job_id']}/cancel").status_code == 409
        r = c.post(f"/api/dead-letters/{mine[0]['msg_id']}/replay")
        assert r.status_code == 200 and r.json() == {"job_id": job["job_id"]}
        assert c.post(f"/api/dead-letters/{mine[0]['msg_id']}/replay").status_code == 404
    done = until(stack, job["job_id"], "succeeded")
    assert done["result"] == "ok at 4"
    history = [(a["attempt"], a["outcome"], (a["error"] or {}).get("message")) for a in done["attempt_history"]]
    assert history == [(1, "retrying", "attempt 1"), (2, "retrying", "attempt 2"), (3, "dead", "attempt 3"),
                       (4, "succeeded", None)], "every attempt keeps its own outcome"
    with stack.client() as c:
        assert all(m["message"]["job_id"] != job["job_id"] for m in c.get("/api/dead-letters").json()["messages"])


def test_user_error_without_retry_fails_once(stack: Stack) -> None:
    job = stack.submit({"code": "throw new Error('x')", "max_attempts": 5})
    assert job["status"] == "failed" and job["attempts"] == 1


def test_manual_retry_and_conflicts(stack: Stack) -> None:
    ok = stack.submit({"code": "return 1"})
    failed = stack.submit({"code": "if (ctx.attempt === 1) throw new Error('once'); return 'again'"})
    assert failed["status"] == "failed"
    with stack.client() as c:
        r = c.post(f"/api/jobs/{ok['job_id']}/retry")
        assert r.status_code == 409 and "succeeded" in r.json()["detail"]
        assert c.post("/api/jobs/99999999/retry").status_code == 404
        r = c.post(f"/api/jobs/{failed['job_id']}/retry")
        assert r.status_code == 200 and r.json()["status"] in ("queued", "running", "succeeded")
        assert c.post(f"/api/jobs/{ok['job_id']}/cancel").status_code == 409
    again = until(stack, failed["job_id"], "succeeded")
    assert again["result"] == "again" and again["attempts"] == 2
    # The failed attempt lived only in the row (0007): the retry moved it into the history first.
    history = [(a["attempt"], a["outcome"], (a["error"] or {}).get("message")) for a in again["attempt_history"]]
    assert history == [(1, "failed", "once"), (2, "succeeded", None)]
    assert [(e["from_status"], e["to_status"], e["attempt"]) for e in again["events"]] == [
        (None, "queued", 0), ("queued", "running", 1), ("running", "failed", 1), ("failed", "queued", 1),
        ("queued", "running", 2), ("running", "succeeded", 2)]


def test_cancelled_delayed_job_never_runs(stack: Stack) -> None:
    job = stack.submit({"code": "return 'ran'", "delay_ms": 1500}, wait=0)
    with stack.client() as c:
        r = c.post(f"/api/jobs/{job['job_id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert c.post(f"/api/jobs/{job['job_id']}/cancel").status_code == 409
    time.sleep(2.5)
    after = get(stack, job["job_id"])
    assert after["status"] == "cancelled" and after["attempts"] == 0 and after["result"] is None
    with stack.db() as db:
        row = db.execute("SELECT count(*) AS n FROM pgmq.q_jobs WHERE msg_id = %s", (job["msg_id"],)).fetchone()
        assert row and row["n"] == 0


def test_delayed_job_does_not_run_early(stack: Stack) -> None:
    job = stack.submit({"code": "return 'later'", "delay_ms": 1500}, wait=0)
    time.sleep(0.7)
    assert get(stack, job["job_id"])["status"] == "queued"
    done = until(stack, job["job_id"], "succeeded")
    started = datetime.fromisoformat(done["started_at"])
    created = datetime.fromisoformat(done["created_at"])
    assert (started - created).total_seconds() >= 1.5


def test_batch_submit_reports_bad_items(stack: Stack) -> None:
    jobs = [{"code": f"return {i}"} for i in range(5)]
    jobs.insert(2, {"payload": 1})
    jobs.insert(4, {"code": "return 1", "timeout_ms": "soon"})
    with stack.client() as c:
        r = c.post("/api/jobs/batch", json={"jobs": jobs})
        assert r.status_code == 201, r.text
        body = r.json()
        assert [e["index"] for e in body["errors"]] == [2, 4]
        assert "code is required" in body["errors"][0]["error"]
        assert "timeout_ms" in body["errors"][1]["error"]
        ids = [i for i in body["ids"] if i is not None]
        assert len(ids) == 5 and body["ids"][2] is None
        big = c.post("/api/jobs/batch", json={"jobs": [{"code": "return 1"}] * 1001})
        assert big.status_code == 413 and "1000" in big.json()["detail"]
    results = [until(stack, i, "succeeded")["result"] for i in ids]
    assert results == [0, 1, 2, 3, 4]


def test_heartbeat_keeps_a_long_job_from_being_redelivered(stack: Stack) -> None:
    # The stack's visibility timeout is 4 s; this job runs 6 s. Without the heartbeat extending the
    # message's visibility, another claim would take it and record a lost attempt.
    job = stack.submit({"code": "await new Promise(r => setTimeout(r, 6000)); return 'long'"}, wait=30)
    assert job["status"] == "succeeded" and job["result"] == "long"
    assert job["attempts"] == 1
    assert not any(e["detail"] and "lost_attempt" in e["detail"] for e in job["events"])
