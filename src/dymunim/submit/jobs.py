"""Submit: code, job row, `queued` event and pgmq message commit together or not at all."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import errors

from dymunim.db.pool import DictConn, DictPool
from dymunim.domain import JobId
from dymunim.settings import Settings
from dymunim.store import jobs as store_jobs
from dymunim.store.jobs import NewCode, NewJob
from dymunim.submit.spec import JobSpec


class SubmitError(ValueError):
    """A job that cannot be accepted; the message says which limit and what to do."""


class TooLarge(SubmitError):
    """A size limit: the code (or another part) is bigger than allowed."""


class KeysContended(SubmitError):
    """Concurrent requests kept colliding on the same idempotency keys; sending again will work."""


@dataclass(frozen=True)
class Submitted:
    job_id: JobId
    created: bool  # False when an idempotency key returned an earlier job
    # Fields in which this request differs from the one that first used its idempotency key: the
    # key then belongs to another request, and this one must be refused, not answered with that job.
    differs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a job came from. Only dymunim's own paths say it (the saved-worker route, a schedule's fire,
    an event's fan-out, a parent's outcome), never a client's word, so a job is never attributed to a
    worker, schedule, event or parent that did not start it."""

    worker_id: str | None = None
    worker_version: int | None = None
    schedule_id: str | None = None
    event_id: int | None = None
    parent_job_id: int | None = None


NO_ORIGIN = Origin()


# What identifies a request for idempotency. trace_id is left out: a client retrying the same
# request under a new trace is still sending the same job.
FINGERPRINT_FIELDS = (
    "code", "payload", "language", "cache_id", "max_attempts", "timeout_ms", "retry_on_error", "delay_ms",
    "run_at", "worker_id",
)
SUBMIT_ATTEMPTS = 8


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def check_code_size(code: str, settings: Settings) -> None:
    size = len(code.encode())
    if size > settings.max_code_bytes:
        limit = settings.max_code_bytes
        raise TooLarge(f"code is {size} bytes; the limit is {limit} bytes (DYMUNIM_MAX_CODE_BYTES)")


def fingerprint(spec: JobSpec, worker_id: str | None = None) -> dict[str, str]:
    """A short digest per field, so a reused idempotency key can say which fields differ."""
    out: dict[str, str] = {}
    for name in FINGERPRINT_FIELDS:
        value: Any = worker_id if name == "worker_id" else getattr(spec, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        # stdlib json: payload integers may exceed 64 bits, and ensure_ascii keeps lone surrogates encodable
        raw = value if name == "code" else json.dumps(value, sort_keys=True, separators=(",", ":"))
        out[name] = hashlib.sha256(raw.encode()).hexdigest()[:16]
    return out


def differing(first: dict[str, str] | None, now: dict[str, str]) -> tuple[str, ...]:
    if not first:
        return ()  # a job from before fingerprints were stored: nothing to compare against
    return tuple(k for k in FINGERPRINT_FIELDS if k in first and first[k] != now.get(k))


def check_limits(spec: JobSpec, settings: Settings) -> None:
    check_code_size(spec.code, settings)
    if spec.timeout_ms is not None and spec.timeout_ms > settings.max_timeout_ms:
        raise SubmitError(
            f"timeout_ms {spec.timeout_ms} is over the limit of {settings.max_timeout_ms} ms (DYMUNIM_MAX_TIMEOUT_MS)"
        )
    if spec.delay_ms is not None and spec.run_at is not None:
        raise SubmitError("give delay_ms or run_at, not both")


def _run_at(spec: JobSpec, now: datetime) -> datetime | None:
    if spec.run_at is not None:
        return spec.run_at
    if spec.delay_ms:
        return now + timedelta(milliseconds=spec.delay_ms)
    return None


async def submit(pool: DictPool, specs: list[JobSpec], settings: Settings,
                 origin: Origin | Sequence[Origin] = NO_ORIGIN) -> list[Submitted]:
    """submit_jobs on a connection of the pool."""
    async with pool.connection() as conn:
        return await submit_jobs(conn, specs, settings, origin)


async def submit_jobs(conn: DictConn, specs: list[JobSpec], settings: Settings,
                      origin: Origin | Sequence[Origin] = NO_ORIGIN) -> list[Submitted]:
    """Create jobs in one transaction (a savepoint if the caller's is open); a key seen before returns
    that job and creates nothing. `origin`: where the jobs came from, one for all or one per spec.

    A key first used with a different request comes back with `differs` naming the fields: the
    caller must refuse it. Raises SubmitError (nothing written) when a spec breaks a limit.
    """
    for spec in specs:
        check_limits(spec, settings)
    origins = [origin] * len(specs) if isinstance(origin, Origin) else list(origin)
    if len(origins) != len(specs):
        raise ValueError(f"{len(origins)} origins for {len(specs)} jobs")
    prints = {i: fingerprint(s, origins[i].worker_id) for i, s in enumerate(specs) if s.idempotency_key}
    # Two concurrent submits with one key: the loser's insert hits the unique index, its whole
    # transaction (message included) rolls back, and the next pass finds the winner's job. Keys are
    # inserted in sorted order per statement, but a batch with several start times inserts in several
    # statements and can still deadlock; Postgres aborts one, which likewise goes again.
    for attempt in range(SUBMIT_ATTEMPTS):
        try:
            async with conn.transaction():
                return await _submit_once(conn, specs, settings, prints, origins)
        except (errors.UniqueViolation, errors.DeadlockDetected):
            if attempt + 1 < SUBMIT_ATTEMPTS:
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise KeysContended(
        f"idempotency keys of this request are being submitted concurrently by other requests; {SUBMIT_ATTEMPTS} "
        "tries all collided. Send it again: jobs already created under its keys are returned, not duplicated"
    )


async def _submit_once(
    conn: DictConn, specs: list[JobSpec], settings: Settings, prints: dict[int, dict[str, str]],
    origins: list[Origin],
) -> list[Submitted]:
    keys = [s.idempotency_key for s in specs if s.idempotency_key]
    existing = await store_jobs.find_keyed(conn, keys) if keys else {}

    now = datetime.now(UTC)
    fresh: list[tuple[int, JobSpec]] = []
    first_index: dict[str, int] = {}
    out: list[Submitted | None] = [None] * len(specs)
    for i, spec in enumerate(specs):
        key = spec.idempotency_key
        if key and key in existing:
            found = existing[key]
            out[i] = Submitted(found.job_id, created=False, differs=differing(found.request_fingerprint, prints[i]))
        elif key and key in first_index:
            continue  # same key twice in one batch: filled from the first below
        else:
            if key:
                first_index[key] = i
            fresh.append((i, spec))

    if fresh:
        languages = {s.code: s.language for _, s in fresh}
        hashes = {code: code_hash(code) for code in languages}
        # Sorted by hash: concurrent batches storing the same new code wait in one order, never deadlock.
        await store_jobs.insert_code(conn, sorted(NewCode(h, code, languages[code]) for code, h in hashes.items()))
        # One insert per distinct start time: each is a single pgmq.send_batch (usually just one).
        groups: dict[datetime | None, list[tuple[int, JobSpec]]] = {}
        for i, spec in fresh:
            groups.setdefault(_run_at(spec, now), []).append((i, spec))
        for run_at, group in groups.items():
            ids = await store_jobs.insert(conn, _new_jobs(group, hashes, settings, prints, origins), run_at)
            for (i, _), job_id in zip(group, ids, strict=True):
                out[i] = Submitted(job_id, created=True)

    for i, spec in enumerate(specs):
        if out[i] is None and spec.idempotency_key:
            j = first_index[spec.idempotency_key]
            first = out[j]
            if first is None:  # the first holder of a key is always created or found above
                raise RuntimeError(f"no job for idempotency key {spec.idempotency_key!r}")
            out[i] = Submitted(first.job_id, created=False, differs=differing(prints[j], prints[i]))
    return [s for s in out if s is not None]


def _new_jobs(
    group: list[tuple[int, JobSpec]], hashes: dict[str, str], settings: Settings,
    prints: dict[int, dict[str, str]], origins: list[Origin],
) -> list[NewJob]:
    return [
        NewJob(payload=s.payload, code_hash=hashes[s.code], language=s.language, worker_id=origins[i].worker_id,
               cache_id=s.cache_id, max_attempts=s.max_attempts or settings.default_max_attempts,
               timeout_ms=s.timeout_ms or settings.default_timeout_ms, retry_on_error=s.retry_on_error,
               idempotency_key=s.idempotency_key, trace_id=s.trace_id, request_fingerprint=prints.get(i),
               worker_version=origins[i].worker_version, schedule_id=origins[i].schedule_id,
               event_id=origins[i].event_id, parent_job_id=origins[i].parent_job_id)
        for i, s in group
    ]
