"""Publish: a named event starts one job per subscribed worker, in the transaction that records it.

The event row (unique on its idempotency key) and its jobs with their pgmq messages commit together,
so a publish repeated with the same key starts nothing more, and a publish that fails starts nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dymunim.db.pool import DictConn
from dymunim.settings import Settings
from dymunim.store import events as store
from dymunim.submit.jobs import Origin, SubmitError, submit_jobs
from dymunim.submit.spec import JobSpec


class EventKeyReused(SubmitError):
    """An idempotency key already names a different event."""

    def __init__(self, message: str, event_id: int) -> None:
        super().__init__(message)
        self.event_id = event_id


@dataclass(frozen=True)
class EventIn:
    name: str
    data: Any = None
    idempotency_key: str | None = None
    external_id: str | None = None  # the producer's own id for it
    trace_id: str | None = None
    delay_ms: int | None = None
    source_job_id: int | None = None  # published by this job's code (ctx.publish)


@dataclass(frozen=True)
class Published:
    event_id: int
    job_ids: list[int]
    created: bool  # False: its idempotency key returned the event published first


def subscriber_payload(event_id: int, e: EventIn, published_at: datetime) -> dict[str, Any]:
    """What a subscribed worker receives as `payload`: the event itself (a prefix subscription needs its name)."""
    return {"name": e.name, "data": e.data, "event_id": event_id, "id": e.external_id,
            "published_at": published_at.astimezone(UTC).isoformat()}


async def publish(conn: DictConn, settings: Settings, e: EventIn) -> Published:
    """Record the event and start its subscribers' jobs in the caller's transaction (a savepoint of its
    own). Raises EventKeyReused (a key that names another event) or SubmitError (a job would break a
    limit), writing nothing."""
    async with conn.transaction():
        run_at = datetime.now(UTC) + timedelta(milliseconds=e.delay_ms) if e.delay_ms else None
        trace_id = e.trace_id or uuid.uuid4().hex  # the correlation id of everything this event starts
        inserted = await store.insert(conn, name=e.name, data=e.data, idempotency_key=e.idempotency_key,
                                      external_id=e.external_id, trace_id=trace_id, run_at=run_at,
                                      source_job_id=e.source_job_id)
        if inserted is None:
            assert e.idempotency_key is not None  # only a key can make the insert do nothing
            held = await store.find_by_key(conn, e.idempotency_key)
            if held is None:  # the holder was deleted between the two statements
                raise SubmitError(f"idempotency key {e.idempotency_key!r} is being reused concurrently; send again")
            if held.name != e.name or held.data != e.data:
                raise EventKeyReused(
                    f"idempotency key {e.idempotency_key!r} was used for event {held.event_id} "
                    f"({held.name!r}) with other name or data; use a new key for a new event", held.event_id)
            return Published(held.event_id, held.job_ids, created=False)
        event_id, published_at = inserted
        subs = await store.subscribers(conn, e.name)
        if not subs:
            return Published(event_id, [], created=True)
        payload = subscriber_payload(event_id, e, published_at)
        specs = [JobSpec.model_validate({"code": s.code, "payload": payload, "language": s.language,
                                         "cache_id": s.cache_id, "trace_id": trace_id, "delay_ms": e.delay_ms})
                 for s in subs]
        done = await submit_jobs(conn, specs, settings, [
            Origin(worker_id=s.worker_id, worker_version=s.version, event_id=event_id) for s in subs])
        return Published(event_id, [int(d.job_id) for d in done], created=True)
