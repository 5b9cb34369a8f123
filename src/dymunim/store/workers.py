"""Saved workers: code under a name."""

from __future__ import annotations

from psycopg import errors

from dymunim.db.pool import DictConn, DictPool
from dymunim.store.models import SavedWorker
from dymunim.store.sql import q


class NameTaken(Exception):
    """A saved worker already has this name."""


async def create(conn: DictConn, *, name: str, code_hash: str, language: str, cache_id: str | None) -> str:
    """The new worker's id; its code must be stored (jobs.insert_code) in the same transaction."""
    try:
        cur = await conn.execute(q("create_worker"), {
            "name": name, "code_hash": code_hash, "language": language, "cache_id": cache_id})
    except errors.UniqueViolation:
        raise NameTaken(name) from None
    row = await cur.fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return str(row["worker_id"])


async def get(pool: DictPool, worker_id: str) -> SavedWorker | None:
    async with pool.connection() as conn:
        row = await (await conn.execute(q("get_worker"), {"worker_id": worker_id})).fetchone()
    return SavedWorker.model_validate(row) if row else None


async def newest(pool: DictPool, limit: int) -> list[SavedWorker]:
    """Newest first, each with how many jobs ran it."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("list_workers"), {"limit": limit})).fetchall()
    return [SavedWorker.model_validate(r) for r in rows]
