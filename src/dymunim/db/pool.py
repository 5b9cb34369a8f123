"""The async connection pool shared by a process's hot path."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


async def _configure(conn: AsyncConnection) -> None:
    conn.row_factory = dict_row  # type: ignore[assignment]


async def open_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        dsn, min_size=min_size, max_size=max_size, open=False, configure=_configure,
        kwargs={"autocommit": False},
    )
    await pool.open(wait=True, timeout=30)
    return pool
