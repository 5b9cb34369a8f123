"""Schedules: create and change them, and fire their due ticks.

A fire is a schedule_fires row unique on (schedule, tick), its job and the job's pgmq message, all in
one transaction: any number of dispatchers may look at a tick, one fires it. Schedules are locked with
SKIP LOCKED while they fire, so dispatchers share the work instead of queueing on it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from dymunim.db.pool import DictConn, DictPool
from dymunim.settings import Settings
from dymunim.store import jobs as store_jobs
from dymunim.store import schedules as store
from dymunim.store import workers as store_workers
from dymunim.store.jobs import NewCode
from dymunim.store.models import Schedule
from dymunim.store.schedules import DueSchedule, ScheduleRow
from dymunim.submit.jobs import Origin, SubmitError, check_limits, code_hash, submit_jobs
from dymunim.submit.spec import JobSpec, invalid
from dymunim.trigger import cron

log = logging.getLogger(__name__)

DUE_BATCH = 20  # schedules fired per transaction


class UnknownWorker(SubmitError):
    """A schedule or subscription names a worker that does not exist."""


@dataclass(frozen=True)
class ScheduleFields:
    """A schedule as a client describes it (create, or PATCH merged onto the stored one)."""

    name: str
    cron: str
    timezone: str
    worker_id: str | None
    code: str | None
    language: str
    cache_id: str | None
    payload: Any
    max_attempts: int | None
    timeout_ms: int | None
    retry_on_error: bool
    misfire: str
    catch_up_limit: int
    paused: bool


def fields_of(s: Schedule) -> ScheduleFields:
    return ScheduleFields(
        name=s.name, cron=s.cron, timezone=s.timezone, worker_id=s.worker_id, code=s.code, language=s.language,
        cache_id=s.cache_id, payload=s.payload, max_attempts=s.max_attempts, timeout_ms=s.timeout_ms,
        retry_on_error=s.retry_on_error, misfire=s.misfire, catch_up_limit=s.catch_up_limit, paused=s.paused)


async def _row(conn: DictConn, f: ScheduleFields, settings: Settings, next_fire_at: datetime) -> ScheduleRow:
    """Check everything a fire will need now, so a schedule that is accepted can fire; store its code."""
    cron.check(f.cron, f.timezone)
    code = f.code
    if f.worker_id is not None:
        w = await store_workers.current(conn, f.worker_id)
        if w is None:
            raise UnknownWorker(f"worker {f.worker_id} does not exist; GET /api/workers lists them")
        code = w.code
    if code is None:
        raise SubmitError("give worker_id (a saved worker) or code (the schedule's own)")
    try:
        check_limits(_spec(code, f.payload, f), settings)
    except ValidationError as exc:
        raise SubmitError(invalid(exc)) from None
    h = None
    if f.worker_id is None:
        h = code_hash(code)
        await store_jobs.insert_code(conn, [NewCode(h, code, f.language)])
    return ScheduleRow(
        name=f.name, cron=f.cron, timezone=f.timezone, worker_id=f.worker_id, code_hash=h, language=f.language,
        cache_id=f.cache_id, payload=f.payload, max_attempts=f.max_attempts, timeout_ms=f.timeout_ms,
        retry_on_error=f.retry_on_error, misfire=f.misfire, catch_up_limit=f.catch_up_limit, paused=f.paused,
        next_fire_at=next_fire_at)


def _spec(code: str, payload: Any, f: ScheduleFields | Schedule, trace_id: str | None = None,
          cache_id: str | None = None, language: str | None = None) -> JobSpec:
    return JobSpec.model_validate({
        "code": code, "payload": payload, "language": language or f.language, "cache_id": cache_id or f.cache_id,
        "max_attempts": f.max_attempts, "timeout_ms": f.timeout_ms, "retry_on_error": f.retry_on_error,
        "trace_id": trace_id})


async def create(pool: DictPool, settings: Settings, f: ScheduleFields) -> str:
    """The new schedule's id. Raises CronError, SubmitError, UnknownWorker or ScheduleNameTaken, writing nothing."""
    async with pool.connection() as conn, conn.transaction():
        first = cron.next_after(f.cron, f.timezone, datetime.now(UTC))
        return await store.create(conn, await _row(conn, f, settings, first))


async def change(pool: DictPool, settings: Settings, schedule_id: str, patch: dict[str, Any]) -> bool:
    """Apply the fields given; a new cron, zone or a resume starts from the next tick after now (ticks passed
    while paused are not misfires). False: no such schedule."""
    async with pool.connection() as conn, conn.transaction():
        s = await store.lock(conn, schedule_id)
        if s is None:
            return False
        before = fields_of(s)
        after = replace(before, **patch)
        if "worker_id" in patch and patch["worker_id"] is not None:
            after = replace(after, code=None)
        elif "code" in patch and patch["code"] is not None:
            after = replace(after, worker_id=None)
        next_fire_at = s.next_fire_at
        if (after.cron, after.timezone) != (before.cron, before.timezone) or (before.paused and not after.paused):
            next_fire_at = cron.next_after(after.cron, after.timezone, datetime.now(UTC))
        await store.update(conn, schedule_id, await _row(conn, after, settings, next_fire_at))
        return True


async def fire_due(pool: DictPool, settings: Settings) -> int:
    """Fire every due tick of every due schedule no other dispatcher is firing; the number of jobs started."""
    started = 0
    while True:
        async with pool.connection() as conn, conn.transaction():
            due = await store.due(conn, DUE_BATCH)
            for d in due:
                started += await _fire(conn, settings, d)
        if len(due) < DUE_BATCH:
            return started


async def _fire(conn: DictConn, settings: Settings, d: DueSchedule) -> int:
    s = d.schedule
    ticks = cron.due(s.cron, s.timezone, first=s.next_fire_at, now=d.db_now,
                     grace=timedelta(seconds=settings.misfire_grace_s), misfire=s.misfire,
                     catch_up_limit=s.catch_up_limit)
    if ticks.missed:
        log.warning("schedule %s (%s): %s%d ticks missed while nothing was firing (misfire policy %s)",
                    s.schedule_id, s.name, "at least " if ticks.missed >= 1000 else "", ticks.missed, s.misfire)
    job_ids: list[int] = []
    claimed: list[datetime] = []
    try:
        # A savepoint per schedule: one that cannot fire (its code grew past a limit since) skips its ticks
        # and logs why, instead of holding back every other schedule.
        async with conn.transaction():
            claimed = await store.claim_ticks(conn, s.schedule_id, ticks.fire)
            if claimed and d.code is not None:
                specs = [_spec(d.code, s.payload, s, trace_id=uuid.uuid4().hex, cache_id=d.cache_id,
                               language=d.language) for _ in claimed]
                subs = await submit_jobs(conn, specs, settings, Origin(
                    worker_id=s.worker_id, worker_version=d.worker_version, schedule_id=s.schedule_id))
                job_ids = [int(x.job_id) for x in subs]
            await store.fired(conn, s.schedule_id, claimed, job_ids, ticks.next_fire_at)
    except (SubmitError, ValueError) as exc:
        log.warning("schedule %s (%s) cannot fire: %s; its ticks up to now are skipped", s.schedule_id, s.name, exc)
        await store.fired(conn, s.schedule_id, [], [], ticks.next_fire_at)
        return 0
    return len(job_ids)
