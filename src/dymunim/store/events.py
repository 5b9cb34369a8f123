"""Published events and subscriptions: which workers an event name starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dymunim.db.pool import DictConn, DictPool
from dymunim.jsonbytes import dumps
from dymunim.store.models import PublishedEvent, Subscription
from dymunim.store.sql import q


@dataclass(frozen=True)
class Subscriber:
    """A worker an event starts, at its current version."""

    worker_id: str
    version: int
    code: str
    language: str
    cache_id: str | None


@dataclass(frozen=True)
class KeyHolder:
    """The event already published under an idempotency key."""

    event_id: int
    name: str
    data: Any
    job_ids: list[int]


async def subscribe(pool: DictPool, worker_id: str, pattern: str) -> Subscription:
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(q("subscribe"), {"worker_id": worker_id, "pattern": pattern})).fetchone()
    if row is None:
        raise RuntimeError("INSERT ... RETURNING returned no row")
    return Subscription.model_validate(row)


async def unsubscribe(pool: DictPool, subscription_id: str) -> bool:
    async with pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(q("unsubscribe"), {"subscription_id": subscription_id})).fetchone()
    return row is not None


async def subscriptions(pool: DictPool, *, worker_id: str | None = None) -> list[Subscription]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("list_subscriptions"), {"worker_id": worker_id})).fetchall()
    return [Subscription.model_validate(r) for r in rows]


async def subscribers(conn: DictConn, name: str) -> list[Subscriber]:
    rows = await (await conn.execute(q("subscribers"), {"name": name})).fetchall()
    return [Subscriber(r["worker_id"], r["version"], r["code"], r["language"], r["cache_id"]) for r in rows]


async def insert(conn: DictConn, *, name: str, data: Any, idempotency_key: str | None, external_id: str | None,
                 trace_id: str | None, run_at: datetime | None,
                 source_job_id: int | None) -> tuple[int, datetime] | None:
    """The new event's id and time; None when its idempotency key is taken (find_by_key says by which)."""
    row = await (await conn.execute(q("insert_event"), {
        "name": name, "data": dumps(data).decode(), "idempotency_key": idempotency_key, "external_id": external_id,
        "trace_id": trace_id, "run_at": run_at, "source_job_id": source_job_id})).fetchone()
    return (int(row["event_id"]), row["created_at"]) if row else None


async def find_by_key(conn: DictConn, key: str) -> KeyHolder | None:
    row = await (await conn.execute(q("find_event_by_key"), {"idempotency_key": key})).fetchone()
    return KeyHolder(row["event_id"], row["name"], row["data"], list(row["job_ids"])) if row else None


async def recent(pool: DictPool, *, name: str | None = None, before: int | None = None, event_id: int | None = None,
                 limit: int = 50) -> list[PublishedEvent]:
    async with pool.connection() as conn:
        rows = await (await conn.execute(q("list_events"), {
            "name": name, "before": before, "event_id": event_id, "limit": limit})).fetchall()
    return [PublishedEvent.model_validate(r) for r in rows]
