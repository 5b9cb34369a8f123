"""Schedules: cron expressions that start jobs, and the fire rows that make each tick start one."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from psycopg import errors

from dymunim.db.pool import DictConn, DictPool
from dymunim.jsonbytes import dumps
from dymunim.store.models import Schedule, ScheduleFire
from dymunim.store.sql import q


class ScheduleNameTaken(Exception):
    """A schedule already has this name."""


@dataclass(frozen=True)
class ScheduleRow:
    """Every stored field of a schedule: what create and update write."""

    name: str
    cron: str
    timezone: str
    worker_id: str | None
    code_hash: str | None
    language: str
    cache_id: str | None
    payload: Any
    max_attempts: int | None
    timeout_ms: int | None
    retry_on_error: bool
    misfire: str
    catch_up_limit: int
    paused: bool
    next_fire_at: datetime

    def params(self) -> dict[str, Any]:
        return {**asdict(self), "payload": dumps(self.payload).decode()}


@dataclass(frozen=True)
class DueSchedule:
    """A schedule whose tick has come, locked for this transaction, with what its fire runs."""

    schedule: Schedule
    code: str | None  # None: its worker lost its code (cannot happen while the foreign keys hold)
    worker_version: int | None
    language: str
    cache_id: str | None
    db_now: datetime


async def create(conn: DictConn, row: ScheduleRow) -> str:
    try:
        found = await (await conn.execute(q("create_schedule"), row.params())).fetchone()
    except errors.UniqueViolation:
        raise ScheduleNameTaken(row.name) from None
    if found is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return str(found["schedule_id"])


async def update(conn: DictConn, schedule_id: str, row: ScheduleRow) -> bool:
    try:
        params = {**row.params(), "schedule_id": schedule_id}
        found = await (await conn.execute(q("update_schedule"), params)).fetchone()
    except errors.UniqueViolation:
        raise ScheduleNameTaken(row.name) from None
    return found is not None


async def lock(conn: DictConn, schedule_id: str) -> Schedule | None:
    row = await (await conn.execute(q("lock_schedule"), {"schedule_id": schedule_id})).fetchone()
    return Schedule.model_validate(row) if row else None


async def get(pool: DictPool, schedule_id: str) -> Schedule | None:
    async with pool.connection() as conn:
        row = await (await conn.execute(q("get_schedule"), {"schedule_id": schedule_id})).fetchone()
    return Schedule.model_validate(row) if row else None


async def listed(pool: DictPool, *, worker_id: str | None = None, limit: int = 500) -> list[Schedule]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("list_schedules"), {"worker_id": worker_id, "limit": limit})).fetchall()
    return [Schedule.model_validate(r) for r in rows]


async def for_worker(pool: DictPool, worker_id: str) -> list[Schedule]:
    return await listed(pool, worker_id=worker_id)


async def delete(pool: DictPool, schedule_id: str) -> bool:
    async with pool.connection() as conn, conn.transaction():
        return (await (await conn.execute(q("delete_schedule"), {"schedule_id": schedule_id})).fetchone()) is not None


async def fires(pool: DictPool, schedule_id: str, limit: int) -> list[ScheduleFire]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("schedule_fires"), {"schedule_id": schedule_id, "limit": limit})).fetchall()
    return [ScheduleFire.model_validate(r) for r in rows]


async def due(conn: DictConn, limit: int) -> list[DueSchedule]:
    rows = await (await conn.execute(q("due_schedules"), {"limit": limit})).fetchall()
    return [
        DueSchedule(
            schedule=Schedule.model_validate(r), code=r["code"], worker_version=r["worker_version"],
            language=r["worker_language"] or r["language"],
            cache_id=r["worker_cache_id"] if r["worker_id"] else r["cache_id"], db_now=r["db_now"])
        for r in rows
    ]


async def claim_ticks(conn: DictConn, schedule_id: str, ticks: list[datetime]) -> list[datetime]:
    """The ticks no dispatcher has fired yet, now this transaction's to fire."""
    rows = await (await conn.execute(q("insert_fires"), {"schedule_id": schedule_id, "fire_times": ticks})).fetchall()
    return sorted(r["fire_time"] for r in rows)


async def fired(conn: DictConn, schedule_id: str, ticks: list[datetime], job_ids: list[int],
                next_fire_at: datetime) -> None:
    if ticks:
        await conn.execute(q("fire_jobs"), {"schedule_id": schedule_id, "fire_times": ticks, "job_ids": job_ids})
    await conn.execute(q("schedule_fired"), {"schedule_id": schedule_id, "next_fire_at": next_fire_at,
                                             "last_fire_at": max(ticks) if ticks else None})


async def next_in(pool: DictPool) -> float | None:
    """Seconds until the earliest tick of a running schedule; None if none runs."""
    async with pool.connection() as conn:
        row = await (await conn.execute(q("next_schedule_in"))).fetchone()
    return float(row["seconds"]) if row and row["seconds"] is not None else None
