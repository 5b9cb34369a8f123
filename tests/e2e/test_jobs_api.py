"""The walking skeleton end to end: HTTP API -> Postgres/pgmq -> dispatcher -> workerd -> record."""

from __future__ import annotations

import uuid

from tests.conftest import Stack


def count_jobs(stack: Stack) -> tuple[int, int, int]:
    with stack.db() as db:
        row = db.execute(
            "SELECT (SELECT count(*) FROM jobs_state) AS jobs, (SELECT count(*) FROM job_events) AS events,"
            # Messages ever sent: finished jobs' messages are deleted, but their ids are never reused.
            " COALESCE(pg_sequence_last_value(pg_get_serial_sequence('pgmq.q_jobs', 'msg_id')), 0) AS msgs"
        ).fetchone()
    assert row is not None
    return row["jobs"], row["events"], row["msgs"]


def test_sum_succeeds_with_lifecycle(stack: Stack) -> None:
    job = stack.submit({"code": "return payload.a + payload.b", "payload": {"a": 1, "b": 2}})
    assert job["status"] == "succeeded", job
    assert job["result"] == 3
    assert job["attempts"] == 1
    assert job["code"] == "return payload.a + payload.b"
    assert [(e["from_status"], e["to_status"]) for e in job["events"]] == [
        (None, "queued"),
        ("queued", "running"),
        ("running", "succeeded"),
    ]
    assert job["duration_ms"] is not None and job["started_at"] and job["finished_at"]
    assert [(a["attempt"], a["outcome"]) for a in job["attempt_history"]] == [(1, "succeeded")]
    with stack.db() as db:
        left = db.execute("SELECT count(*) AS n FROM pgmq.q_jobs WHERE msg_id = %s", (job["msg_id"],)).fetchone()
        assert left and left["n"] == 0, "a finished job's message is deleted (the jobs table is the record)"
        stored = db.execute("SELECT count(*) AS n FROM job_events WHERE job_id = %s", (job["job_id"],)).fetchone()
        assert stored and stored["n"] == 0, "the common path's transitions are read from the row, not stored"


def test_module_default_function_gets_ctx(stack: Stack) -> None:
    code = "export default async function (payload, ctx) { return { n: payload.n * 2, job: ctx.job_id }; }"
    job = stack.submit({"code": code, "payload": {"n": 21}})
    assert job["status"] == "succeeded", job
    assert job["result"] == {"n": 42, "job": job["job_id"]}


def test_worker_module_with_fetch(stack: Stack) -> None:
    code = """export default {
  async fetch(request, env, ctx) {
    const body = await request.json();
    return Response.json({ hello: body.name });
  }
};"""
    job = stack.submit({"code": code, "payload": {"name": "ada"}})
    assert job["status"] == "succeeded", job
    assert job["result"] == {"hello": "ada"}


def test_console_output_becomes_execution_logs(stack: Stack) -> None:
    job = stack.submit({"code": "console.log('hi', {x: 1}); console.error('bad'); return 1"})
    assert job["status"] == "succeeded"
    logs = [(line["level"], line["message"]) for line in job["execution_logs"]]
    assert ("log", 'hi {"x":1}') in logs or ("log", "hi { x: 1 }") in logs, logs
    assert ("error", "bad") in logs
    assert all(line["at"] for line in job["execution_logs"])


def test_syntax_error_fails_with_line(stack: Stack) -> None:
    job = stack.submit({"code": "const a = 1;\nreturn a +;\n"})
    assert job["status"] == "failed", job
    assert job["error"]["name"] == "SyntaxError"
    assert "line 2" in job["error"]["message"], job["error"]
    assert job["attempts"] == 1, "a syntax error is the user's, never retried by default"


def test_thrown_error_fails_with_name_message_stack(stack: Stack) -> None:
    job = stack.submit({"code": "class Nope extends Error { name = 'Nope' }\nthrow new Nope('no way');"})
    assert job["status"] == "failed"
    err = job["error"]
    assert err["name"] == "Nope" and err["message"] == "no way"
    assert "Nope" in err["stack"] and "job.js:2" in err["stack"], err["stack"]
    assert [e["to_status"] for e in job["events"]][-1] == "failed"


def test_fetch_is_blocked(stack: Stack) -> None:
    job = stack.submit({"code": "const r = await fetch('https://example.com'); return r.status"})
    assert job["status"] == "failed"
    assert job["error"]["name"] == "NetworkBlockedError"
    assert "network is blocked" in job["error"]["message"]


def test_non_json_results_fail_clearly(stack: Stack) -> None:
    for code in ("return 10n", "return () => 1"):
        job = stack.submit({"code": code})
        assert job["status"] == "failed", (code, job)
        assert job["error"]["name"] == "ResultError"
        assert "JSON" in job["error"]["message"]


def test_same_cache_id_runs_new_code_and_stays_warm(stack: Stack) -> None:
    cid = f"c-{uuid.uuid4().hex[:8]}"
    first = stack.submit({"code": "return 'v1'", "cache_id": cid})
    again = stack.submit({"code": "return 'v1'", "cache_id": cid})
    changed = stack.submit({"code": "return 'v2'", "cache_id": cid})
    assert (first["result"], again["result"], changed["result"]) == ("v1", "v1", "v2")
    assert first["cold_start"] is True
    assert again["cold_start"] is False, "same cache id and code must reuse the warm isolate"
    assert changed["cold_start"] is True, "changed code must get a new isolate"


def test_idempotency_key_gives_one_job(stack: Stack) -> None:
    key = f"k-{uuid.uuid4()}"
    before = count_jobs(stack)
    with stack.client() as c:
        r1 = c.post("/api/jobs", json={"code": "return 1", "idempotency_key": key})
        r2 = c.post("/api/jobs", json={"code": "return 1", "idempotency_key": key})
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json()["job_id"] == r2.json()["job_id"]
    after = count_jobs(stack)
    assert after[0] == before[0] + 1 and after[2] == before[2] + 1


def test_get_and_list(stack: Stack) -> None:
    job = stack.submit({"code": "return 'listed'"})
    with stack.client() as c:
        got = c.get(f"/api/jobs/{job['job_id']}").json()
        assert got["result"] == "listed" and got["events"]
        page = c.get("/api/jobs", params={"limit": 5}).json()
        ids = [j["job_id"] for j in page["jobs"]]
        assert ids == sorted(ids, reverse=True) and job["job_id"] in ids
        failed = c.get("/api/jobs", params={"status": "failed", "limit": 100}).json()["jobs"]
        assert all(j["status"] == "failed" for j in failed)
        nxt = c.get("/api/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
        assert all(j["job_id"] < ids[-1] for j in nxt["jobs"])
