"""Dispatchers report here, and health reads who is alive."""

from __future__ import annotations

from dymunim.db.pool import DictConn, DictPool
from dymunim.store.models import DispatcherSeen
from dymunim.store.sql import q


async def seen(conn: DictConn, *, dispatcher_id: str, hostname: str, pid: int, in_flight: int, overdue: int) -> None:
    await conn.execute(q("dispatcher_seen"), {"id": dispatcher_id, "hostname": hostname, "pid": pid,
                                               "in_flight": in_flight, "overdue": overdue})


async def gone(conn: DictConn, dispatcher_id: str) -> None:
    await conn.execute(q("dispatcher_gone"), {"id": dispatcher_id})


async def alive(pool: DictPool, within_s: float) -> list[DispatcherSeen]:
    async with pool.connection(timeout=5) as conn:
        rows = await (await conn.execute(q("dispatchers_alive"), {"seconds": within_s})).fetchall()
    return [DispatcherSeen.model_validate(r) for r in rows]


async def ping(pool: DictPool) -> None:
    """Raises when the database does not answer within 5 s."""
    async with pool.connection(timeout=5) as conn:
        await conn.execute(q("ping"))
