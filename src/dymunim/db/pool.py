"""The async connection pool shared by a process's hot path; rows come back as dicts."""

from __future__ import annotations

from typing import TypeAlias

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

DictConn: TypeAlias = AsyncConnection[DictRow]
DictPool: TypeAlias = AsyncConnectionPool[DictConn]


async def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, name: str = "dymunim") -> DictPool:
    """`name` is each connection's application_name: pg_stat_activity tells the API from a dispatcher."""
    pool: DictPool = AsyncConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        open=False,
        connection_class=AsyncConnection[DictRow],
        kwargs={"autocommit": False, "row_factory": dict_row, "application_name": name},
    )
    await pool.open(wait=True, timeout=30)
    return pool
