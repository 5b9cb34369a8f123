"""Nothing lost: kill parts of a running system and prove every job still ends right, once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("crash"))
    yield s
    stop_stack_proc(s.proc)


def wait_for(pred, timeout: float = 30, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_dispatcher_killed_mid_job_loses_nothing(crash_stack: Stack) -> None:
    s = crash_stack
    job = s.submit({"code": "await new Promise(r => setTimeout(r, 1500)); return 'done'"}, wait=0)
    jid = job["job_id"]

    def running() -> bool:
        with s.client() as c:
            return bool(c.get(f"/api/jobs/{jid}").json()["status"] == "running")

    wait_for(running, what="job running")
    old = s.children()["dispatch"]
    os.kill(old, signal.SIGKILL)
    # `up` restarts the dispatcher; the message comes back after its visibility timeout (4 s here).
    with s.client() as c:
        final = wait_for(lambda: (j := c.get(f"/api/jobs/{jid}").json())["status"] == "succeeded" and j,
                         timeout=40, what="job succeeded after the crash")
    assert final["result"] == "done"
    assert final["attempts"] == 2
    to = [e["to_status"] for e in final["events"]]
    assert to.count("succeeded") == 1
    lost = [e for e in final["events"] if e["detail"] and "lost_attempt" in e["detail"]]
    assert len(lost) == 1 and lost[0]["detail"]["lost_attempt"] == 1
    assert [(a["attempt"], a["outcome"]) for a in final["attempt_history"]] == [(1, "lost"), (2, "succeeded")]
    assert final["attempt_history"][0]["error"]["name"] == "LostAttempt"
    assert s.children()["dispatch"] != old


def test_up_stops_every_child_on_sigterm(tmp_path: Path) -> None:
    s = start_stack(tmp_path)
    kids = s.children()
    assert set(kids) == {"executor", "dispatch", "api"}
    workerds = [p.pid for p in psutil.Process(kids["executor"]).children(recursive=True)]
    assert workerds, "the executor runs workerd child processes"
    postmaster = int((s.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(60) == 0
    for pid in [*kids.values(), *workerds, postmaster]:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, pid
    stop_stack_proc(s.proc)


def test_sigterm_hands_unfinished_work_back_at_once(tmp_path: Path) -> None:
    # Visibility timeout 60 s: if the stopping dispatcher did not hand the message back (set_vt 0),
    # the job could not run again for a minute.
    s = start_stack(tmp_path, DYMUNIM_VISIBILITY_TIMEOUT_S="60", DYMUNIM_SHUTDOWN_GRACE_S="0.5")
    try:
        job = s.submit({"code": "await new Promise(r => setTimeout(r, 3000)); return ctx.attempt"}, wait=0)
        jid = job["job_id"]
        with s.client() as c:
            wait_for(lambda: c.get(f"/api/jobs/{jid}").json()["status"] == "running", what="running")
            t0 = time.monotonic()
            os.kill(s.children()["dispatch"], signal.SIGTERM)
            final = wait_for(lambda: (j := c.get(f"/api/jobs/{jid}").json())["status"] == "succeeded" and j,
                             timeout=30, what="job succeeded after the hand-back")
        assert time.monotonic() - t0 < 20, "picked up again long before the 60 s visibility timeout"
        assert final["result"] == 2 and final["attempts"] == 2
        assert "handed 1 unfinished messages back" in s.log_path.read_text()
    finally:
        stop_stack_proc(s.proc)


def test_backends_terminated_under_the_dispatcher_lose_nothing(crash_stack: Stack) -> None:
    """What pg_terminate_backend does to a dispatcher's claims and records (an operator's kill, a
    failover proxy, the harness's backend-kill storm): each ends with its transaction rolled back, the
    dispatcher goes on with another connection, and every job still ends once, with its own result."""
    s = crash_stack
    stop = threading.Event()
    killed = [0]

    def killer() -> None:
        with psycopg.connect(s.dsn, autocommit=True) as db:
            while not stop.is_set():
                row = db.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = 'dymunim dispatcher' AND state IN ('active', 'idle in transaction')"
                ).fetchone()
                killed[0] += row[0] if row else 0
                time.sleep(0.01)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    ids: list[int] = []
    try:
        with s.client() as c:
            for batch in range(30):
                jobs = [{"code": "return payload * 2", "payload": batch * 10 + k, "cache_id": "kills"}
                        for k in range(10)]
                r = c.post("/api/jobs/batch", json={"jobs": jobs})
                assert r.status_code == 201, r.text
                ids += r.json()["ids"]
                time.sleep(0.05)
            wait_for(lambda: killed[0] >= 5, timeout=30, what="backends terminated")
    finally:
        stop.set()
        thread.join()
    with psycopg.connect(s.dsn) as db:
        def settled() -> list[tuple[int, str, object, object]] | None:
            rows = db.execute("SELECT job_id, status, payload, result FROM jobs_state WHERE job_id = ANY(%s)",
                              (ids,)).fetchall()
            db.rollback()
            return rows if all(st in ("succeeded", "failed", "dead") for _, st, _, _ in rows) else None

        rows = wait_for(settled, timeout=60, what="every job finished")
    assert len(rows) == 300
    assert all(st == "succeeded" and res == p * 2 for _, st, p, res in rows), \
        [r for r in rows if r[1] != "succeeded" or r[3] != r[2] * 2][:5]
