"""Schedules on a real Postgres: each tick fires once however many schedulers run, the misfire policy
decides what an outage's ticks do, and a paused schedule fires nothing. (Jobs are created, not run:
firing ends at the job and its pgmq message.)"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dymunim.db.migrate import migrate
from dymunim.db.pool import DictPool, open_pool
from dymunim.dispatch.scheduler import run_scheduler
from dymunim.settings import Settings
from dymunim.trigger import schedules as service
from dymunim.trigger.schedules import fire_due

SETTINGS = Settings(misfire_grace_s=1.0)


def every_second(name: str, **kw: Any) -> service.ScheduleFields:
    fields: dict[str, Any] = {
        "name": name, "cron": "* * * * * *", "timezone": "UTC", "worker_id": None,
        "code": "return payload.n", "language": "javascript", "cache_id": None, "payload": {"n": 1},
        "max_attempts": None, "timeout_ms": None, "retry_on_error": False, "misfire": "skip",
        "catch_up_limit": 10, "paused": False}
    return service.ScheduleFields(**(fields | kw))


def fires(dsn: str, schedule_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT f.fire_time, f.fired_at, f.job_id, j.schedule_id, j.payload, j.status, "
            "       (SELECT count(*) FROM pgmq.q_jobs m WHERE (m.message->>'job_id')::bigint = j.job_id) AS messages "
            "FROM schedule_fires f LEFT JOIN jobs_state j USING (job_id) "
            "WHERE f.schedule_id = %s ORDER BY f.fire_time", (schedule_id,)).fetchall()


async def run_for(pools: list[DictPool], seconds: float) -> None:
    stop = asyncio.Event()
    loops = [asyncio.create_task(run_scheduler(SETTINGS, p, stop)) for p in pools]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*loops)


def test_four_schedulers_fire_each_tick_once_within_a_second(fresh_dsn: str) -> None:
    migrate(fresh_dsn)

    async def main() -> str:
        pools = [await open_pool(fresh_dsn, max_size=3) for _ in range(4)]
        try:
            sid = await service.create(pools[0], SETTINGS, every_second("tick"))
            await run_for(pools, 4.5)
            return sid
        finally:
            for p in pools:
                await p.close()

    sid = asyncio.run(main())
    rows = fires(fresh_dsn, sid)
    assert len(rows) >= 3, rows
    seconds = [r["fire_time"] for r in rows]
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(seconds)), seconds
    for r in rows:  # one job per fire, carrying the schedule, with its pgmq message, fired within 1 s
        assert r["job_id"] is not None and r["schedule_id"] == sid and r["payload"] == {"n": 1}
        assert r["status"] == "queued" and r["messages"] == 1
        assert timedelta(0) <= r["fired_at"] - r["fire_time"] < timedelta(seconds=1), r
    with psycopg.connect(fresh_dsn) as conn:
        jobs = conn.execute("SELECT count(*) FROM jobs_state WHERE schedule_id = %s", (sid,)).fetchone()
    assert jobs is not None and jobs[0] == len(rows)


def test_after_an_outage_skip_fires_no_missed_tick_and_catch_up_its_newest_few(fresh_dsn: str) -> None:
    migrate(fresh_dsn)

    async def main() -> tuple[str, str]:
        pool = await open_pool(fresh_dsn, max_size=3)
        try:
            skip = await service.create(pool, SETTINGS, every_second("skip"))
            catch_up = await service.create(pool, SETTINGS, every_second("catch up", misfire="catch_up",
                                                                        catch_up_limit=3))
            async with pool.connection() as conn:
                # What a restart after 20 s without any dispatcher finds: the next tick to fire is 20 s old.
                await conn.execute("UPDATE schedules SET next_fire_at = date_trunc('second', clock_timestamp()) "
                                   "- interval '20 seconds'")
                await conn.commit()
            await fire_due(pool, SETTINGS)
            return skip, catch_up
        finally:
            await pool.close()

    skip, catch_up = asyncio.run(main())
    skipped, caught = fires(fresh_dsn, skip), fires(fresh_dsn, catch_up)
    # Only the tick within the grace (1 s) fired for `skip`; `catch_up` fired it and the 3 newest missed ones.
    assert 1 <= len(skipped) <= 2 and all(r["fired_at"] - r["fire_time"] < timedelta(seconds=1.5) for r in skipped)
    assert len(caught) == len(skipped) + 3, caught
    ticks = [r["fire_time"] for r in caught]
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(ticks)), ticks
    assert ticks[-1] == skipped[-1]["fire_time"]
    assert all(r["job_id"] is not None for r in caught + skipped)
    with psycopg.connect(fresh_dsn) as conn:  # both moved on past the outage
        row = conn.execute("SELECT count(*) FROM schedules WHERE next_fire_at < clock_timestamp() - interval '2 s'"
                           ).fetchone()
    assert row is not None and row[0] == 0


def test_a_paused_schedule_fires_nothing_and_resumes_from_the_next_tick(fresh_dsn: str) -> None:
    migrate(fresh_dsn)

    async def main() -> tuple[str, int, int, int]:
        pool = await open_pool(fresh_dsn, max_size=3)
        try:
            sid = await service.create(pool, SETTINGS, every_second("pause me", misfire="catch_up"))
            await run_for([pool], 2.2)
            before = len(fires(fresh_dsn, sid))
            assert await service.change(pool, SETTINGS, sid, {"paused": True})
            await run_for([pool], 2.5)
            paused = len(fires(fresh_dsn, sid))
            assert await service.change(pool, SETTINGS, sid, {"paused": False})
            await run_for([pool], 2.2)
            return sid, before, paused, len(fires(fresh_dsn, sid))
        finally:
            await pool.close()

    sid, before, paused, _after = asyncio.run(main())
    assert before >= 1 and paused == before, (before, paused)
    rows = fires(fresh_dsn, sid)
    resumed = rows[paused:]
    assert 1 <= len(resumed) <= 3, rows  # no catch-up of the paused ticks
    assert all(r["fired_at"] - r["fire_time"] < timedelta(seconds=1) for r in resumed)
