"""Saved workers: store code under a name, in versions. Running one is an ordinary submit with its code."""

from __future__ import annotations

from dymunim.db.pool import DictPool
from dymunim.domain import Language
from dymunim.settings import Settings
from dymunim.store import jobs as store_jobs
from dymunim.store import workers as store_workers
from dymunim.store.jobs import NewCode
from dymunim.submit.jobs import check_code_size, code_hash


async def save(
    pool: DictPool, settings: Settings, *, name: str, code: str, language: Language, cache_id: str | None
) -> str:
    """The new worker's id. Raises TooLarge (code over the limit) or store.workers.NameTaken, writing nothing."""
    check_code_size(code, settings)
    h = code_hash(code)
    async with pool.connection() as conn, conn.transaction():
        await store_jobs.insert_code(conn, [NewCode(h, code, language)])
        return await store_workers.create(conn, name=name, code_hash=h, language=language, cache_id=cache_id)


async def save_version(
    pool: DictPool, settings: Settings, *, worker_id: str, code: str, language: Language, cache_id: str | None
) -> int | None:
    """The version new jobs of the worker now run (unchanged code keeps the current one); None: no such
    worker. Raises TooLarge, writing nothing."""
    check_code_size(code, settings)
    h = code_hash(code)
    async with pool.connection() as conn, conn.transaction():
        await store_jobs.insert_code(conn, [NewCode(h, code, language)])
        return await store_workers.add_version(conn, worker_id=worker_id, code_hash=h, language=language,
                                               cache_id=cache_id)
