"""Saved workers: code under a name, in immutable versions."""

from __future__ import annotations

from psycopg import errors

from dymunim.db.pool import DictConn, DictPool
from dymunim.store.jobs import like_literal
from dymunim.store.models import SavedWorker, WorkerSummary, WorkerVersion
from dymunim.store.sql import q


class NameTaken(Exception):
    """A saved worker already has this name."""


async def create(conn: DictConn, *, name: str, code_hash: str, language: str, cache_id: str | None) -> str:
    """The new worker's id (at version 1); its code must be stored (jobs.insert_code) in the same transaction."""
    try:
        cur = await conn.execute(q("create_worker"), {
            "name": name, "code_hash": code_hash, "language": language, "cache_id": cache_id})
    except errors.UniqueViolation:
        raise NameTaken(name) from None
    row = await cur.fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return str(row["worker_id"])


async def add_version(conn: DictConn, *, worker_id: str, code_hash: str, language: str,
                      cache_id: str | None) -> int | None:
    """The version that now runs: a new one, or the current one if nothing changed. None: no such worker.
    The code must be stored in the same transaction."""
    current = await (await conn.execute(q("lock_worker"), {"worker_id": worker_id})).fetchone()
    if current is None:
        return None
    if current["code_hash"] == code_hash and current["cache_id"] == cache_id:
        return int(current["version"])  # saving the same code twice makes no new version
    row = await (await conn.execute(q("add_worker_version"), {
        "worker_id": worker_id, "code_hash": code_hash, "language": language, "cache_id": cache_id})).fetchone()
    if row is None:
        raise RuntimeError("UPDATE ... RETURNING returned no row for a locked worker")
    return int(row["version"])


async def get(pool: DictPool, worker_id: str) -> SavedWorker | None:
    async with pool.connection() as conn:
        row = await (await conn.execute(q("get_worker"), {"worker_id": worker_id})).fetchone()
    return SavedWorker.model_validate(row) if row else None


async def current(conn: DictConn, worker_id: str) -> SavedWorker | None:
    """The worker as a fire or a publish runs it, read in the caller's transaction."""
    row = await (await conn.execute(q("get_worker"), {"worker_id": worker_id})).fetchone()
    return SavedWorker.model_validate(row) if row else None


async def versions(pool: DictPool, worker_id: str) -> list[WorkerVersion]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("worker_versions"), {"worker_id": worker_id})).fetchall()
    return [WorkerVersion.model_validate(r) for r in rows]


async def version(pool: DictPool, worker_id: str, number: int) -> WorkerVersion | None:
    async with pool.connection() as conn:
        row = await (await conn.execute(q("worker_version"), {"worker_id": worker_id, "version": number})).fetchone()
    return WorkerVersion.model_validate(row) if row else None


async def search(pool: DictPool, text: str | None, limit: int) -> list[WorkerSummary]:
    """Most recently changed first; `text` in the name, matched literally."""
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("list_workers"), {
            "q": like_literal(text) if text else None, "limit": limit})).fetchall()
    return [WorkerSummary.from_row(r) for r in rows]
