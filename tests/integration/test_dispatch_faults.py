"""Faults on the record path and a silent executor never leave a job `running` (real Postgres).

The executor here is a fake on purpose: a real one cannot be made to accept a call and then say
nothing forever, nor to hand the recorder text that Postgres refuses (the real executor repairs it).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from dymunim.db.migrate import migrate
from dymunim.db.pool import DictPool, open_pool
from dymunim.dispatch.dispatcher import Dispatcher
from dymunim.execute.client import ExecutorClient
from dymunim.execute.contract import Outcome
from dymunim.record.outcomes import Finished
from dymunim.settings import Settings
from dymunim.store.models import Claimed
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec


def ok(result: Any, logs: list[Any] | None = None) -> Outcome:
    return {"ok": True, "result": result, "error": None, "logs": logs or [], "logs_truncated": False,
            "duration_ms": 1.0, "cold": False}


@pytest.fixture()
def silent_executor() -> Iterator[str]:
    """Accepts connections, reads the request, never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except TimeoutError:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


async def _claimed(pool: DictPool, d: Dispatcher, n: int) -> list[Claimed]:
    rows = await d._claim(n, sweep=True)
    assert len(rows) == n
    for r in rows:
        d._start_attempt(r)
    return rows


def _job(dsn: str, job_id: int) -> dict[str, Any]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM jobs_state WHERE job_id = %s", (job_id,)).fetchone()
        assert row is not None
        return row


def test_an_outcome_postgres_refuses_fails_only_its_own_job(pg_dsn: str) -> None:
    migrate(pg_dsn)
    settings = Settings()

    async def main() -> list[int]:
        pool = await open_pool(pg_dsn)
        executor = ExecutorClient("http://127.0.0.1:9", None)
        try:
            async with pool.connection() as conn:
                subs = await submit_jobs(conn, [JobSpec(code="return 1") for _ in range(3)], settings)
            d = Dispatcher(settings, pg_dsn, pool, executor)
            rows = await _claimed(pool, d, 3)
            by_job = {r.job_id: r for r in rows}
            ids = [s.job_id for s in subs]
            # The middle outcome holds an unpaired surrogate, which jsonb refuses: the group fails as a
            # whole, then each is recorded alone and only that one fails (InvalidResult).
            finished = [
                Finished(d.in_flight[by_job[ids[0]].msg_id], ok("first")),
                Finished(d.in_flight[by_job[ids[1]].msg_id], ok("bad \ud800", [
                    {"level": "log", "at": "2026-11-26T00:00:00Z", "message": "x\udfff"}])),
                Finished(d.in_flight[by_job[ids[2]].msg_id], ok("third")),
            ]
            await d._record(finished)
            assert d.in_flight == {}, "every slot is released"
            return ids
        finally:
            await executor.aclose()
            await pool.close()

    ids = asyncio.run(main())
    first, bad, third = (_job(pg_dsn, i) for i in ids)
    assert (first["status"], first["result"]) == ("succeeded", "first")
    assert (third["status"], third["result"]) == ("succeeded", "third")
    assert bad["status"] == "failed"
    assert bad["error"]["name"] == "InvalidResult"
    assert "could not be stored" in bad["error"]["message"]
    assert bad["result"] is None


def test_an_attempt_past_its_deadline_is_recorded_as_lost(pg_dsn: str, silent_executor: str) -> None:
    migrate(pg_dsn)
    # Budget: 3 x (0.1 s + 3 s) + 0 s margin = 9.3 s, before the client's own read timeout (10.1 s).
    settings = Settings(overdue_margin_s=0, retry_base_s=60, retry_cap_s=60)

    async def main() -> tuple[int, float]:
        pool = await open_pool(pg_dsn)
        executor = ExecutorClient(silent_executor, None)
        stop = asyncio.Event()
        try:
            async with pool.connection() as conn:
                (sub,) = await submit_jobs(conn, [JobSpec(code="return 1", timeout_ms=100)], settings)
            d = Dispatcher(settings, pg_dsn, pool, executor)
            t0 = time.monotonic()
            runner = asyncio.create_task(d.run(stop))
            while _status(pool_dsn=pg_dsn, job_id=sub.job_id) in ("queued", "running"):
                assert time.monotonic() - t0 < 30, "the attempt was never resolved"
                await asyncio.sleep(0.2)
            took = time.monotonic() - t0
            for _ in range(50):  # its slot is released right after the commit the poll above saw
                if not d.in_flight:
                    break
                await asyncio.sleep(0.02)
            assert d.in_flight == {}
            stop.set()
            await asyncio.wait_for(runner, 15)
            return sub.job_id, took
        finally:
            await executor.aclose()
            await pool.close()

    job_id, took = asyncio.run(main())
    assert 9.0 <= took < 12, took
    job = _job(pg_dsn, job_id)
    assert job["status"] == "retrying", "lost attempts run again, within the infrastructure budget"
    assert job["error"]["name"] == "AttemptOverdue"
    with psycopg.connect(pg_dsn, row_factory=dict_row) as conn:
        att = conn.execute("SELECT outcome, error FROM job_attempts WHERE job_id = %s", (job_id,)).fetchall()
    assert [a["error"]["name"] for a in att] == ["AttemptOverdue"]


def _status(pool_dsn: str, job_id: int) -> str:
    with psycopg.connect(pool_dsn) as conn:
        row = conn.execute("SELECT status FROM jobs_state WHERE job_id = %s", (job_id,)).fetchone()
        assert row is not None
        return str(row[0])
