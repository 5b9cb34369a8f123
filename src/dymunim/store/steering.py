"""Steering: retry, cancel and the dead-letter queue, each a statement with its queue operation."""

from __future__ import annotations

from dataclasses import dataclass

from dymunim.db.pool import DictConn
from dymunim.domain import JobStatus
from dymunim.store.sql import q


@dataclass(frozen=True, slots=True)
class Steered:
    status_before: JobStatus | None  # None: no such job
    done: bool


def _steered(status_before: str | None, done: object) -> Steered:
    return Steered(JobStatus(status_before) if status_before else None, done is not None)


async def requeue(conn: DictConn, job_id: int, *, budget: int, reason: str) -> Steered:
    """A failed or dead job back to `queued` with `budget` more attempts and a new message."""
    row = await (await conn.execute(q("retry_job"), {"job_id": job_id, "budget": budget, "reason": reason})).fetchone()
    return _steered(row["status_before"], row["retried"]) if row else Steered(None, False)


async def cancel(conn: DictConn, job_id: int) -> Steered:
    """A queued, retrying, sleeping or waiting job to `cancelled`; its message deleted."""
    row = await (await conn.execute(q("cancel_job"), {"job_id": job_id})).fetchone()
    return _steered(row["status_before"], row["cancelled"]) if row else Steered(None, False)


async def dead_letter_job(conn: DictConn, msg_id: int) -> int | None:
    """The job a dead-letter message belongs to."""
    row = await (await conn.execute(q("dead_letter_job"), {"msg_id": msg_id})).fetchone()
    return int(row["job_id"]) if row else None


async def dead_lettered_jobs(conn: DictConn) -> list[int]:
    return [int(r["job_id"]) for r in await (await conn.execute(q("dead_letter_jobs"))).fetchall()]


async def purge_dead_letters(conn: DictConn) -> int:
    row = await (await conn.execute(q("purge_dead_letters"))).fetchone()
    return int(row["purged"]) if row else 0
