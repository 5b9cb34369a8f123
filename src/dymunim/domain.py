"""Names for the things dymunim moves around."""

from __future__ import annotations

import math
from typing import Any, Literal, NewType, get_args

JobId = NewType("JobId", int)
MsgId = NewType("MsgId", int)

JobStatus = Literal["queued", "running", "succeeded", "failed", "retrying", "dead", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "dead", "cancelled"})

Language = Literal["javascript"]

JOBS_QUEUE = "jobs"
DLQ_QUEUE = "jobs_dlq"
JOB_EVENTS_CHANNEL = "dymunim_jobs"


def unstorable(value: Any) -> str | None:
    """Why Postgres jsonb would refuse this JSON value, or None. Said here, per field, instead of
    surfacing as a database error without a field name."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return "contains a NUL character (\\u0000) in a string, which Postgres JSON cannot store"
            if not v.isascii():
                try:
                    v.encode()
                except UnicodeEncodeError:
                    return ("contains an unpaired UTF-16 surrogate (\\ud800-\\udfff) in a string, which Postgres "
                            "JSON cannot store; send valid Unicode")
        elif isinstance(v, float):
            if not math.isfinite(v):
                return "contains NaN or Infinity, which JSON does not allow; send a number or null"
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return None
