"""Chains: what a job asked to start (ctx.enqueue, ctx.publish) is created in the transaction that
records its success, so the outbox is the queue itself: a failed or retried parent starts nothing, a
recorded success starts its children once (the record is fenced on the attempt), and each child holds
an idempotency key derived from its parent and its call's index unless the job chose one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from dymunim.db.pool import DictConn
from dymunim.execute.contract import Effect
from dymunim.settings import Settings
from dymunim.store import events as store_events
from dymunim.store import jobs as store_jobs
from dymunim.store import workers as store_workers
from dymunim.submit.jobs import Origin, SubmitError, check_limits, differing, fingerprint, submit_jobs
from dymunim.submit.spec import JobSpec, invalid
from dymunim.trigger.events import EventIn, publish


class ChainError(ValueError):
    """What a job asked to start cannot be started; the job fails with this message."""


@dataclass(frozen=True)
class Children:
    parent_job_id: int
    specs: list[JobSpec] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    events: list[EventIn] = field(default_factory=list)


async def plan(conn: DictConn, settings: Settings, parent_job_id: int, trace_id: str | None,
               effects: Sequence[Effect]) -> Children:
    """Resolve and check every child before the parent's success is written. Raises ChainError."""
    trace = trace_id or uuid.uuid4().hex  # the chain's correlation id: the parent's when it has one
    out = Children(parent_job_id)
    chosen: dict[str, str] = {}  # keys the job chose -> the call that chose it
    for i, e in enumerate(effects):
        key = e.get("idempotency_key") or f"chain:{parent_job_id}:{i}"
        call = f"{'ctx.enqueue' if e['type'] == 'enqueue' else 'ctx.publish'} (call {i + 1})"
        if e.get("idempotency_key"):
            if key in chosen:
                raise ChainError(f"{call}: idempotency key {key!r} was already given to {chosen[key]}; one key "
                                 "names one job or event")
            chosen[key] = call
        if e["type"] == "publish":
            out.events.append(EventIn(name=e.get("name") or "", data=e.get("data"), idempotency_key=key,
                                      trace_id=trace, source_job_id=parent_job_id))
            continue
        code, language, cache_id, version = e.get("code"), "javascript", None, None
        if worker_id := e.get("worker_id"):
            w = await store_workers.current(conn, worker_id)
            if w is None:
                raise ChainError(f"{call}: worker {worker_id} does not exist")
            code, language, cache_id, version = w.code, w.language, w.cache_id, w.version
        try:
            spec = JobSpec.model_validate({"code": code, "payload": e.get("payload"), "language": language,
                                           "cache_id": cache_id, "delay_ms": e.get("delay_ms"),
                                           "idempotency_key": key, "trace_id": trace})
            check_limits(spec, settings)
        except (ValidationError, SubmitError) as exc:
            raise ChainError(f"{call}: {invalid(exc) if isinstance(exc, ValidationError) else exc}") from None
        out.specs.append(spec)
        out.origins.append(Origin(worker_id=e.get("worker_id"), worker_version=version, parent_job_id=parent_job_id))
    if chosen:
        await _check_chosen_keys(conn, out, chosen)
    return out


async def _check_chosen_keys(conn: DictConn, c: Children, chosen: dict[str, str]) -> None:
    """A key the job chose that already names a different job or event would start nothing, silently: the
    job fails saying so instead. (The same request again is a repeat, and starts nothing, as a submit.)"""
    keyed = await store_jobs.find_keyed(conn, [s.idempotency_key for s in c.specs if s.idempotency_key in chosen])
    for spec, origin in zip(c.specs, c.origins, strict=True):
        key = spec.idempotency_key or ""
        held = keyed.get(key)
        if held and (diff := differing(held.request_fingerprint, fingerprint(spec, origin.worker_id))):
            raise ChainError(f"{chosen[key]}: idempotency key {key!r} already names job {held.job_id}, started "
                             f"with another {', '.join(diff)}; choose another key")
    for e in c.events:
        key = e.idempotency_key or ""
        if key not in chosen or (ev := await store_events.find_by_key(conn, key)) is None:
            continue
        if (ev.name, ev.data) != (e.name, e.data):
            raise ChainError(f"{chosen[key]}: idempotency key {key!r} already names event {ev.event_id} "
                             f"({ev.name!r}) with other name or data; choose another key")


async def start(conn: DictConn, settings: Settings, c: Children) -> None:
    """Create the children in the caller's transaction (the one recording the parent's success)."""
    if c.specs:
        await submit_jobs(conn, c.specs, settings, c.origins)
    for e in c.events:
        await publish(conn, settings, e)
