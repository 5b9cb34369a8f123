"""The executor's HTTP contract as Python types: the one thing the dispatcher knows about it.

Same shapes as `cloudflare-worker/src` (`Job`, `Outcome`): `/load`, `/get`, `/batch`, `/health`.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import orjson


class JobError(TypedDict):
    name: str
    message: str
    stack: str | None


class LogLine(TypedDict):
    level: str
    at: str
    message: str


class ExecJob(TypedDict, total=False):
    code: str
    payload: Any
    cache_id: str | None
    timeout_ms: int
    max_log_lines: int
    max_log_bytes: int
    max_result_bytes: int
    trace_id: str | None
    job_id: int | None
    attempt: int | None


class Outcome(TypedDict):
    ok: bool
    result: Any
    error: JobError | None
    logs: list[LogLine]
    logs_truncated: bool
    duration_ms: float
    cold: bool


class ExecutorUnavailable(Exception):
    """The executor could not run the job (down, 5xx, killed process): an infrastructure failure.

    The dispatcher retries these with backoff; they never count against the user's code.
    """


def dumps(obj: Any) -> bytes:
    """JSON bytes: orjson, or the standard library for what orjson refuses (integers over 64 bits,
    which a job's payload may hold: JSON allows them)."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj).encode()
