"""A claim's cost does not grow with the row versions a pinned xmin horizon keeps (issue 13).

While any transaction holds an old snapshot, vacuum removes nothing newer: every claimed and every
finished message stays in pgmq.q_jobs and its indexes as a dead version. Counted in index entries
the claim reads (Postgres' own statistics), not in time: the same on any machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import psycopg

from dymunim.db.migrate import migrate
from dymunim.db.pool import open_pool
from dymunim.dispatch.dispatcher import Dispatcher
from dymunim.dispatch.wakeup import listen_for_inserts
from dymunim.execute.client import ExecutorClient
from dymunim.settings import Settings
from dymunim.store import claims
from dymunim.store.models import Claimed
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec

FINISHED = 3000


# Index entries read by this transaction so far, dead ones included (idx_tup_read of both queue indexes).
ENTRIES_READ = """
SELECT pg_stat_get_xact_tuples_returned('pgmq.q_jobs_pkey'::regclass)
       + pg_stat_get_xact_tuples_returned('pgmq.q_jobs_vt_idx'::regclass) AS n
"""


def test_a_claim_from_the_cursor_skips_the_dead_versions_a_pinned_horizon_keeps(pg_dsn: str) -> None:
    migrate(pg_dsn)
    pin = psycopg.connect(pg_dsn)
    pin.execute("SELECT txid_current()")  # an idle transaction holding an XID: the horizon stops here

    async def main() -> tuple[int, int, int, int]:
        pool = await open_pool(pg_dsn, max_size=1)
        try:
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM pgmq.q_jobs")  # other tests' messages
                await conn.commit()
                # FINISHED jobs claimed and finished the usual way: each leaves dead versions behind.
                cursor = 0
                for _ in range(FINISHED // 500):
                    await submit_jobs(conn, [JobSpec(code="return 1", payload=i) for i in range(500)], Settings())
                    async with conn.transaction():
                        took = await claims.claim(conn, vt_s=30, qty=500, max_deliveries=10, after=cursor)
                    assert len(took.ready) == 500 and took.cursor is not None
                    cursor = took.cursor
                    async with conn.transaction():
                        await claims.drop(conn, [r.msg_id for r in took.ready])
                since = (await (await conn.execute("SELECT clock_timestamp() AS t")).fetchone() or {})["t"]
                await conn.commit()
                await submit_jobs(conn, [JobSpec(code="return 1", payload=i) for i in range(10)], Settings())

                async def claim_reading(after: int | None, due_from: datetime | None = None) -> tuple[int, int]:
                    """(messages claimed, index entries read), rolled back."""
                    async with conn.transaction(force_rollback=True):
                        before = (await (await conn.execute(ENTRIES_READ)).fetchone() or {})["n"]
                        took = await claims.claim(conn, vt_s=30, qty=500, max_deliveries=10, after=after,
                                                  due_from=due_from)
                        read = (await (await conn.execute(ENTRIES_READ)).fetchone() or {})["n"]
                    return len(took.ready), int(read - before)

                fresh, fresh_read = await claim_reading(cursor)
                swept, sweep_read = await claim_reading(None)
                recent, recent_read = await claim_reading(None, since)
                assert recent == 10, "a sweep from a recent time finds the 10 new messages too"
                assert recent_read <= 40, f"a sweep of the last moments read {recent_read} index entries"
                return fresh, fresh_read, swept, sweep_read
        finally:
            await pool.close()

    try:
        fresh, fresh_read, swept, sweep_read = asyncio.run(main())
    finally:
        pin.rollback()
        pin.close()
    assert fresh == 10 and swept == 10, "both claims find exactly the 10 new messages"
    # The sweep walks the vt index from its start, through every dead version: what the cursor avoids.
    assert sweep_read > FINISHED, f"the test must hold the dead versions (the sweep read {sweep_read} entries)"
    assert fresh_read <= 40, f"a claim from the cursor read {fresh_read} index entries (the sweep {sweep_read})"


def test_a_message_committed_below_the_cursor_steps_it_back(pg_dsn: str) -> None:
    """msg_ids are taken at insert and seen at commit: a batch that took its ids first and committed last
    sits below a cursor that has moved on. Its wake-up names its smallest msg_id, and the next claim
    from the cursor takes it, without waiting for a sweep."""
    migrate(pg_dsn)

    async def main() -> tuple[list[int], list[int], int]:
        pool = await open_pool(pg_dsn)
        stop = asyncio.Event()
        settings = Settings(DYMUNIM_POLL_INTERVAL_S=3600)  # no sweep would come in time
        d = Dispatcher(settings, pg_dsn, pool, ExecutorClient("http://127.0.0.1:9", None))
        listener = asyncio.create_task(listen_for_inserts(pg_dsn, d._inserted, stop))
        try:
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM pgmq.q_jobs")  # other tests' messages
                await conn.commit()
            await d._claim(500, sweep=True)
            async with pool.connection() as late, pool.connection() as early:
                async with late.transaction():  # takes its msg_id first, commits last
                    (slow,) = await submit_jobs(late, [JobSpec(code="return 1", payload="late")], Settings())
                    (quick,) = await submit_jobs(early, [JobSpec(code="return 1", payload="early")], Settings())
                    first = [r.job_id for r in await _claim_when_heard(d, lambda: d._rewind_to is not None)]
                    cursor = d._after
                # committed: its message is below the cursor now
                second = [r.job_id for r in await _claim_when_heard(d, lambda: d._rewind_to is not None)]
            assert quick.job_id in first and slow.job_id not in first
            return first, second, slow.job_id if cursor > 0 else -1
        finally:
            stop.set()
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await pool.close()

    first, second, slow = asyncio.run(main())
    assert second == [slow], f"the late message is claimed from the cursor (first claim {first}, then {second})"


async def _claim_when_heard(d: Dispatcher, heard: Callable[[], bool]) -> list[Claimed]:
    """A claim from the cursor, once the listener has heard what the test waits for."""
    for _ in range(100):
        if heard():
            break
        await asyncio.sleep(0.05)
    return await d._claim(500, sweep=False)


def test_a_sweep_from_its_last_time_takes_what_fell_due_since(pg_dsn: str) -> None:
    """A retry (pgmq.set_vt ahead) sits behind the cursor: a later sweep that starts reading near the
    previous one's time still takes it once it is due, and not before."""
    migrate(pg_dsn)

    async def main() -> tuple[int, list[int], int]:
        pool = await open_pool(pg_dsn, max_size=1)
        try:
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM pgmq.q_jobs")  # other tests' messages
                await conn.commit()
                await submit_jobs(conn, [JobSpec(code="return 1", payload="retry me")], Settings())
                async with conn.transaction():
                    took = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=0)
                (row,) = took.ready
                await conn.execute("SELECT pgmq.set_vt('jobs', %s::bigint, 1)", (row.msg_id,))  # due in 1 s
                await conn.commit()
                async with conn.transaction():
                    early = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=None)
                assert early.swept_to is not None, "a sweep that took less than it asked says how far it went"
                await asyncio.sleep(1.3)
                async with conn.transaction():
                    due_from = early.swept_to - timedelta(seconds=5)
                    later = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=None,
                                               due_from=due_from)
                return len(early.ready), [r.msg_id for r in later.ready], row.msg_id
        finally:
            await pool.close()

    early, later, retried = asyncio.run(main())
    assert early == 0, "not due yet"
    assert later == [retried], f"the due retry is taken by a sweep from the last one's time: {later}"
