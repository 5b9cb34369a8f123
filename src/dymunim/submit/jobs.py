"""Submit: code, job row, `queued` event and pgmq message commit together or not at all."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import errors
from psycopg.types.json import Jsonb

from dymunim.db.pool import DictConn
from dymunim.db.queries import q
from dymunim.domain import JobId
from dymunim.settings import Settings
from dymunim.submit.spec import JobSpec


class SubmitError(ValueError):
    """A job that cannot be accepted; the message says which limit and what to do."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status the API answers with (413 for a size limit)


@dataclass(frozen=True)
class Submitted:
    job_id: JobId
    created: bool  # False when an idempotency key returned an earlier job


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def check_code_size(code: str, settings: Settings) -> None:
    size = len(code.encode())
    if size > settings.max_code_bytes:
        limit = settings.max_code_bytes
        raise SubmitError(f"code is {size} bytes; the limit is {limit} bytes (DYMUNIM_MAX_CODE_BYTES)", 413)


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


async def submit_jobs(conn: DictConn, specs: list[JobSpec], settings: Settings) -> list[Submitted]:
    """Create jobs in one transaction; a key seen before returns that job and creates nothing.

    Raises SubmitError (nothing written) when a spec breaks a limit.
    """
    for spec in specs:
        check_limits(spec, settings)
    # Two concurrent submits with one key: the loser's insert hits the unique index, its whole
    # transaction (message included) rolls back, and the second pass finds the winner's job.
    for _ in range(3):
        try:
            async with conn.transaction():
                return await _submit_once(conn, specs, settings)
        except errors.UniqueViolation:
            continue
    raise SubmitError("idempotency key is being used by concurrent submits; try again", 409)


async def _submit_once(conn: DictConn, specs: list[JobSpec], settings: Settings) -> list[Submitted]:
    keys = [s.idempotency_key for s in specs if s.idempotency_key]
    existing: dict[str, int] = {}
    if keys:
        cur = await conn.execute(q("find_idempotent"), {"keys": keys})
        for row in await cur.fetchall():
            existing[row["idempotency_key"]] = row["job_id"]

    now = datetime.now(UTC)
    fresh: list[tuple[int, JobSpec]] = []
    first_index: dict[str, int] = {}
    out: list[Submitted | None] = [None] * len(specs)
    for i, spec in enumerate(specs):
        key = spec.idempotency_key
        if key and key in existing:
            out[i] = Submitted(JobId(existing[key]), created=False)
        elif key and key in first_index:
            continue  # same key twice in one batch: filled from the first below
        else:
            if key:
                first_index[key] = i
            fresh.append((i, spec))

    if fresh:
        languages = {s.code: s.language for _, s in fresh}
        hashes = {code: code_hash(code) for code in languages}
        await conn.execute(
            q("insert_code"),
            {"code_hashes": list(hashes.values()), "codes": list(hashes), "languages": list(languages.values())},
        )
        # One insert per distinct start time: each is a single pgmq.send_batch (usually just one).
        groups: dict[datetime | None, list[tuple[int, JobSpec]]] = {}
        for i, spec in fresh:
            groups.setdefault(_run_at(spec, now), []).append((i, spec))
        for run_at, group in groups.items():
            cur = await conn.execute(q("insert_jobs"), _insert_params(group, hashes, run_at, settings))
            rows = await cur.fetchall()
            for (i, _), row in zip(group, rows, strict=True):
                out[i] = Submitted(JobId(row["job_id"]), created=True)
        await conn.execute(q("notify_jobs_queue"))

    for i, spec in enumerate(specs):
        if out[i] is None and spec.idempotency_key:
            first = out[first_index[spec.idempotency_key]]
            assert first is not None
            out[i] = Submitted(first.job_id, created=False)
    return [s for s in out if s is not None]


def _insert_params(
    group: list[tuple[int, JobSpec]], hashes: dict[str, str], run_at: datetime | None, settings: Settings
) -> dict[str, Any]:
    specs = [s for _, s in group]
    return {
        "payloads": [Jsonb(s.payload) for s in specs],
        "code_hashes": [hashes[s.code] for s in specs],
        "languages": [s.language for s in specs],
        "worker_ids": [s.worker_id for s in specs],
        "cache_ids": [s.cache_id for s in specs],
        "max_attempts": [s.max_attempts or settings.default_max_attempts for s in specs],
        "timeouts": [s.timeout_ms or settings.default_timeout_ms for s in specs],
        "retry_on_errors": [s.retry_on_error for s in specs],
        "idempotency_keys": [s.idempotency_key for s in specs],
        "trace_ids": [s.trace_id for s in specs],
        "run_at": run_at,
    }
