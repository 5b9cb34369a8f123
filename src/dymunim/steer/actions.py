"""Steer: retry, cancel and replay, each one transaction with its queue operation."""

from __future__ import annotations

from dataclasses import dataclass

from dymunim.db.pool import DictConn
from dymunim.db.queries import q


@dataclass(frozen=True)
class Steered:
    status_before: str | None  # None: no such job
    done: bool


async def retry(conn: DictConn, job_id: int, budget: int, reason: str = "manual retry") -> Steered:
    cur = await conn.execute(q("retry_job"), {"job_id": job_id, "budget": budget, "reason": reason})
    row = await cur.fetchone()
    assert row is not None
    if row["retried"] is not None:
        await conn.execute(q("notify_jobs_queue"))
    return Steered(row["status_before"], row["retried"] is not None)


async def cancel(conn: DictConn, job_id: int) -> Steered:
    cur = await conn.execute(q("cancel_job"), {"job_id": job_id})
    row = await cur.fetchone()
    assert row is not None
    return Steered(row["status_before"], row["cancelled"] is not None)


async def replay_dead_letter(conn: DictConn, msg_id: int, budget: int) -> tuple[int | None, Steered | None]:
    """Replay one dead-letter message: its job runs again, the message is archived."""
    cur = await conn.execute(q("dead_letter_job"), {"msg_id": msg_id})
    row = await cur.fetchone()
    if row is None:
        return None, None
    return row["job_id"], await retry(conn, row["job_id"], budget, "replayed from the dead-letter queue")


async def replay_all(conn: DictConn, budget: int) -> int:
    cur = await conn.execute(q("dead_letter_jobs"))
    n = 0
    for row in await cur.fetchall():
        n += (await retry(conn, row["job_id"], budget, "replayed from the dead-letter queue")).done
    return n
