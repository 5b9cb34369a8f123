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
from dymunim.store.sql import q
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
                    msgs = await (await conn.execute(q("read_messages"), {"vt": 30, "qty": 10})).fetchall()
                    rows = await (await conn.execute(q("claim_jobs"), {
                        "msg_ids": [m["msg_id"] for m in msgs], "job_ids": [m["job_id"] for m in msgs]})).fetchall()
                    attempts.append(rows[0])
            assert [a["attempts"] for a in attempts] == [1, 2]
            policy = RetryPolicy(1, 1)

            def fin(row: dict, result: object) -> Finished:  # type: ignore[type-arg]
                return Finished(Attempt(row["job_id"], row["attempts"], row["msg_id"], 3, False), outcome(result))

            zombie = await record(pool, [fin(attempts[0], "stale")], policy)
            assert zombie.counts["final"] == 0, "attempt 1 is fenced off"
            current = await record(pool, [fin(attempts[1], "fresh")], policy)
            assert current.counts["final"] == 1
            late_zombie = await record(pool, [fin(attempts[0], "stale")], policy)
            assert late_zombie.counts["final"] == 0
        finally:
            await pool.close()

    asyncio.run(main())
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT status, result, attempts FROM jobs_state ORDER BY job_id DESC LIMIT 1").fetchone()
        assert row == ("succeeded", "fresh", 2)
        events = conn.execute("SELECT to_status, detail FROM job_events WHERE job_id = "
                              "(SELECT max(job_id) FROM jobs_state) ORDER BY event_id").fetchall()
        assert [e[0] for e in events] == ["queued", "running", "running", "succeeded"]
        assert events[2][1]["lost_attempt"] == 1
