"""The attempt number is a fencing token: a zombie attempt cannot overwrite a newer one."""

from __future__ import annotations

import asyncio

import psycopg

from dymunim.db.migrate import migrate
from dymunim.db.pool import open_pool
from dymunim.execute.contract import Outcome
from dymunim.record.outcomes import Attempt, Finished, record
from dymunim.record.policy import RetryPolicy
from dymunim.settings import Settings
from dymunim.store import claims
from dymunim.store import jobs as store_jobs
from dymunim.store.models import Claimed
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec


def outcome(result: object) -> Outcome:
    return {"ok": True, "result": result, "error": None, "logs": [], "logs_truncated": False,
            "duration_ms": 1.0, "cold": False}


def test_zombie_attempt_cannot_record(pg_dsn: str) -> None:
    migrate(pg_dsn)

    async def main() -> None:
        pool = await open_pool(pg_dsn)
        try:
            async with pool.connection() as conn:
                (sub,) = await submit_jobs(conn, [JobSpec(code="return 1")], Settings())
            attempts = []
            for _ in range(2):  # claim, then claim again as if the visibility timeout had passed
                async with pool.connection() as conn, conn.transaction():
                    await conn.execute("UPDATE pgmq.q_jobs SET vt = now() WHERE (message->>'job_id')::bigint = %s",
                                       (sub.job_id,))
                    took = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=None)
                    attempts.append(took.ready[0])
            assert [a.attempts for a in attempts] == [1, 2]
            policy = RetryPolicy(1, 1)

            def fin(row: Claimed, result: object) -> Finished:
                return Finished(Attempt(row.job_id, row.attempts, row.msg_id, 3, False), outcome(result))

            zombie = await record(pool, [fin(attempts[0], "stale")], policy)
            assert zombie.counts["final"] == 0, "attempt 1 is fenced off"
            current = await record(pool, [fin(attempts[1], "fresh")], policy)
            assert current.counts["final"] == 1
            late_zombie = await record(pool, [fin(attempts[0], "stale")], policy)
            assert late_zombie.counts["final"] == 0
            job = await store_jobs.get(pool, sub.job_id)
            assert job is not None
            # Only the lost attempt's claim is a stored event; the rest is read from the row (0007).
            assert [(e.to_status, e.attempt, e.event_id is not None) for e in job.events] == [
                ("queued", 0, False), ("running", 1, False), ("running", 2, True), ("succeeded", 2, False)]
            assert job.events[2].detail and job.events[2].detail["lost_attempt"] == 1
            assert [(a.attempt, a.outcome) for a in job.attempt_history] == [(1, "lost"), (2, "succeeded")]
        finally:
            await pool.close()

    asyncio.run(main())
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT status, result, attempts FROM jobs_state ORDER BY job_id DESC LIMIT 1").fetchone()
        assert row == ("succeeded", "fresh", 2)
        events = conn.execute("SELECT to_status FROM job_events WHERE job_id = "
                              "(SELECT max(job_id) FROM jobs_state) ORDER BY event_id").fetchall()
        assert events == [("running",)], "the common path stores no event rows"
