"""pgmq's own view of the queues: depth, ages, messages."""

from __future__ import annotations

from psycopg import sql

from dymunim.db.pool import DictPool
from dymunim.store.models import QueueInfo, QueueMessage
from dymunim.store.sql import q

DEAD_LETTERS = "jobs_dlq"  # the dead-letter queue (created by migration 0001, written by record_dead)


async def all_queues(pool: DictPool) -> list[QueueInfo]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("queue_metrics"))).fetchall()
    return [QueueInfo.model_validate(r) for r in rows]


async def peek(pool: DictPool, name: str, limit: int) -> list[QueueMessage] | None:
    """The oldest messages of a queue without claiming them; None when there is no such queue."""
    async with pool.connection() as conn:
        if await (await conn.execute(q("queue_exists"), {"name": name})).fetchone() is None:
            return None
        # The name is a known queue (checked above) and goes in as a quoted identifier, never as text.
        query = sql.SQL(q("peek_messages").decode()).format(table=sql.Identifier(f"q_{name}"))
        rows = await (await conn.execute(query, {"limit": limit})).fetchall()
    return [QueueMessage.model_validate(r) for r in rows]
