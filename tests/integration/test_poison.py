"""A message delivered more often than DYMUNIM_MAX_DELIVERIES without a result is dead-lettered."""

from __future__ import annotations

import asyncio

import psycopg

from dymunim.db.migrate import migrate
from dymunim.db.pool import open_pool
from dymunim.dispatch.dispatcher import Dispatcher
from dymunim.execute.client import ExecutorClient
from dymunim.settings import Settings
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec


def test_poison_message_goes_to_the_dead_letter_queue(pg_dsn: str) -> None:
    migrate(pg_dsn)
    settings = Settings(max_deliveries=2, visibility_timeout_s=30)

    async def main() -> int:
        pool = await open_pool(pg_dsn)
        # No executor is needed: a poison message is buried before anything runs it.
        executor = ExecutorClient("http://127.0.0.1:9", None)
        try:
            async with pool.connection() as conn:
                (sub,) = await submit_jobs(conn, [JobSpec(code="return 1")], settings)
            async with pool.connection() as conn:
                # Two deliveries that never finished (as if two dispatchers died holding it).
                for _ in range(2):
                    await conn.execute("SELECT * FROM pgmq.read('jobs', 0, 10)")
                await conn.commit()
            dispatcher = Dispatcher(settings, pg_dsn, pool, executor)
            claimed = await dispatcher._claim(10, sweep=True)
            assert claimed == [], "a poison message is not run again"
            return sub.job_id
        finally:
            await executor.aclose()
            await pool.close()

    job_id = asyncio.run(main())
    with psycopg.connect(pg_dsn) as conn:
        status, error = conn.execute("SELECT status, error FROM jobs_state WHERE job_id = %s", (job_id,)).fetchone()  # type: ignore[misc]
        assert status == "dead"
        assert "poison" in error["message"] and "2 times" in error["message"]
        dlq = conn.execute("SELECT count(*) FROM pgmq.q_jobs_dlq WHERE (message->>'job_id')::bigint = %s",
                           (job_id,)).fetchone()
        assert dlq == (1,)
        left = conn.execute("SELECT count(*) FROM pgmq.q_jobs WHERE (message->>'job_id')::bigint = %s",
                            (job_id,)).fetchone()
        assert left == (0,), "the original message is archived"
