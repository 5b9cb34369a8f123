"""Jobs: create them with their code and pgmq message, and read them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from dymunim.db.pool import DictConn, DictPool
from dymunim.domain import LIVE, JobId, JobStatus
from dymunim.jsonbytes import dumps
from dymunim.store import history, steps
from dymunim.store.models import Job, JobAttempt, JobEvent, JobSummary, WaitingFor
from dymunim.store.sql import q


@dataclass(frozen=True, slots=True, order=True)
class NewCode:
    code_hash: str
    code: str
    language: str


@dataclass(frozen=True, slots=True)
class NewJob:
    """One job an insert creates; its fields are the columns insert_jobs reads from each JSON element."""

    payload: Any
    code_hash: str
    language: str
    worker_id: str | None
    cache_id: str | None
    max_attempts: int
    timeout_ms: int
    retry_on_error: bool
    idempotency_key: str | None
    trace_id: str | None
    request_fingerprint: dict[str, str] | None
    worker_version: int | None = None
    schedule_id: str | None = None
    event_id: int | None = None
    parent_job_id: int | None = None


@dataclass(frozen=True, slots=True)
class Keyed:
    """A job that already holds an idempotency key, with the request that first used it."""

    job_id: JobId
    request_fingerprint: dict[str, str] | None


@dataclass(frozen=True)
class JobFilter:
    """What a job list may be narrowed by; None means any."""

    status: JobStatus | None = None
    before: int | None = None  # keyset cursor: job ids below this one
    cache_id: str | None = None
    worker_id: str | None = None
    trace_id: str | None = None
    schedule_id: str | None = None
    event_id: int | None = None
    parent_job_id: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    text: str | None = None  # in the error's name or message, matched literally
    limit: int = 50


def like_literal(text: str) -> str:
    """The user's text as a LIKE pattern that matches only itself (the query says ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def insert_code(conn: DictConn, code: Sequence[NewCode]) -> None:
    """Store code once per hash. Callers pass it sorted by hash: concurrent batches storing the same new
    code then wait for each other in one order and never deadlock."""
    await conn.execute(q("insert_code"), {
        "code_hashes": [c.code_hash for c in code], "codes": [c.code for c in code],
        "languages": [c.language for c in code],
    })


async def find_keyed(conn: DictConn, keys: list[str]) -> dict[str, Keyed]:
    cur = await conn.execute(q("find_idempotent"), {"keys": keys})
    return {r["idempotency_key"]: Keyed(JobId(r["job_id"]), r["request_fingerprint"]) for r in await cur.fetchall()}


async def insert(conn: DictConn, new: Sequence[NewJob], run_at: datetime | None) -> list[JobId]:
    """Insert jobs and their messages (one pgmq.send_batch); ids in input order. All share `run_at`
    (None: now): one pgmq.send_batch carries every message."""
    # orjson writes the dataclasses as objects; payload integers beyond 64 bits (JSON allows them)
    # take jsonbytes' fallback, which needs them as dicts.
    jobs = dumps(list(new), default=asdict).decode()
    row = await (await conn.execute(q("insert_jobs"), {"jobs": jobs, "run_at": run_at})).fetchone()
    return [JobId(i) for i in row["job_ids"]] if row and row["job_ids"] else []


async def get(pool: DictPool, job_id: int) -> Job | None:
    """One job with its events and attempts (read in one snapshot)."""
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(q("get_job"), {"job_id": job_id})).fetchone()
        if row is None:
            return None
        events = await (await conn.execute(q("job_events"), {"job_id": job_id})).fetchall()
        attempts = await (await conn.execute(q("job_attempts"), {"job_id": job_id})).fetchall()
        workflow: dict[str, Any] = {}
        if row["steps"] is not None or row["status"] in LIVE:  # events may wait for a run's first call
            taken = await steps.history(conn, job_id)
            waiting = next((st for st in taken if st.status == "waiting"), None)
            workflow = {
                "step_history": taken if row["steps"] is not None else None,
                "inbox": await steps.inbox(conn, job_id),
                "waiting_for": WaitingFor(step=waiting.name, event_type=waiting.event_type or "",
                                          timeout_at=waiting.until)
                if waiting is not None and row["status"] == JobStatus.WAITING else None,
            }
    tried = [JobAttempt.model_validate(a) for a in attempts]
    return Job.model_validate({
        **row,
        "events": history.events(row, [JobEvent.model_validate(e) for e in events], tried),
        "attempt_history": history.attempts(row, tried),
        **workflow,
    })


async def status(pool: DictPool, job_id: int) -> JobStatus | None:
    async with pool.connection() as conn:
        row = await (await conn.execute(q("job_statuses"), {"job_ids": [job_id]})).fetchone()
    return JobStatus(row["status"]) if row else None


async def summaries(pool: DictPool, f: JobFilter) -> list[JobSummary]:
    """Newest first; keyset-paged on job_id (stable while new jobs arrive)."""
    async with pool.connection() as conn:
        live = f.status in LIVE
        cur = await conn.execute(q("list_live_jobs" if live else "list_jobs"), {
            "status": f.status, "before": f.before, "limit": f.limit, "cache_id": f.cache_id,
            "worker_id": f.worker_id, "trace_id": f.trace_id, "created_after": f.created_after,
            "schedule_id": f.schedule_id, "event_id": f.event_id, "parent_job_id": f.parent_job_id,
            "created_before": f.created_before, "q": like_literal(f.text) if f.text else None,
        })
        rows = await cur.fetchall()
    return [JobSummary.model_validate(r) for r in rows]
