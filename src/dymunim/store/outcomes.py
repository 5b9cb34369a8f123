"""Outcomes: each statement records a group of attempts, their events and their queue operation.

Every statement is fenced on the attempt number and on `running`: a zombie that lost its message
cannot overwrite a newer attempt. Each takes one JSON array (one parameter instead of nine adapted
arrays: cheaper per job) and returns how many attempts it recorded.
"""

from __future__ import annotations

from dymunim.db.pool import DictConn
from dymunim.store.sql import q


async def finish(conn: DictConn, outcomes_json: str) -> list[int]:
    """succeeded/failed: result or error, logs, timings; the message deleted. The jobs recorded (a
    zombie attempt's outcome is not)."""
    cur = await conn.execute(q("record_final"), {"outcomes": outcomes_json})
    return [r["job_id"] for r in await cur.fetchall()]


async def retry_later(conn: DictConn, outcomes_json: str) -> int:
    """`retrying`: the error, and the message hidden until its run_at."""
    return len(await (await conn.execute(q("record_retry"), {"outcomes": outcomes_json})).fetchall())


async def bury(conn: DictConn, outcomes_json: str) -> int:
    """`dead`: a copy on the dead-letter queue, the message deleted."""
    return len(await (await conn.execute(q("record_dead"), {"outcomes": outcomes_json})).fetchall())
