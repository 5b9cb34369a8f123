"""Steer: retry, cancel and replay, each one transaction with its queue operation.

A new message wakes the dispatchers by itself: a trigger on the queue table NOTIFYs once per statement."""

from __future__ import annotations

from dymunim.db.pool import DictPool
from dymunim.store import steering
from dymunim.store.steering import Steered

__all__ = ["Steered", "cancel", "purge_dead_letters", "replay_all", "replay_dead_letter", "retry"]

REPLAYED = "replayed from the dead-letter queue"


async def retry(pool: DictPool, job_id: int, budget: int) -> Steered:
    """A failed or dead job runs again with `budget` more attempts."""
    async with pool.connection() as conn, conn.transaction():
        return await steering.requeue(conn, job_id, budget=budget, reason="manual retry")


async def cancel(pool: DictPool, job_id: int) -> Steered:
    async with pool.connection() as conn, conn.transaction():
        return await steering.cancel(conn, job_id)


async def replay_dead_letter(pool: DictPool, msg_id: int, budget: int) -> tuple[int, Steered] | None:
    """Replay one dead-letter message: its job runs again, the message is archived. None: no such message."""
    async with pool.connection() as conn, conn.transaction():
        job_id = await steering.dead_letter_job(conn, msg_id)
        if job_id is None:
            return None
        return job_id, await steering.requeue(conn, job_id, budget=budget, reason=REPLAYED)


async def replay_all(pool: DictPool, budget: int) -> int:
    async with pool.connection() as conn, conn.transaction():
        n = 0
        for job_id in await steering.dead_lettered_jobs(conn):
            n += (await steering.requeue(conn, job_id, budget=budget, reason=REPLAYED)).done
        return n


async def purge_dead_letters(pool: DictPool) -> int:
    async with pool.connection() as conn, conn.transaction():
        return await steering.purge_dead_letters(conn)
