"""Names for the things dymunim moves around."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Literal, NewType

JobId = NewType("JobId", int)
MsgId = NewType("MsgId", int)


class JobStatus(StrEnum):
    """A job's state. Postgres holds the same list in CHECK constraints (migrations 0001, 0006, 0010); a test
    compares the two."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRYING = "retrying"
    DEAD = "dead"
    CANCELLED = "cancelled"
    # A workflow run between executor calls (migration 0010): until a time, or until an event.
    SLEEPING = "sleeping"
    WAITING = "waiting"


TERMINAL: frozenset[JobStatus] = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DEAD, JobStatus.CANCELLED})

# Live jobs: they have a message on the queue (lists find them there, cancel deletes it).
LIVE: frozenset[JobStatus] = frozenset(
    {JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SLEEPING, JobStatus.WAITING})

# A workflow run between calls for as long as its code says: a `?wait=` answers then, as for a finished job.
PARKED: frozenset[JobStatus] = frozenset({JobStatus.SLEEPING, JobStatus.WAITING})

StepKind = Literal["do", "sleep", "wait"]
StepStatus = Literal["completed", "failed", "retrying", "sleeping", "waiting", "timed_out"]

# How an attempt ended: the status it led to, or `lost` (no answer; the message came back).
AttemptOutcome = Literal["succeeded", "failed", "retrying", "dead", "lost"]
Language = Literal["javascript"]

JOB_EVENTS_CHANNEL = "dymunim_jobs"

# Dispatchers report at least this often; health trusts a dispatcher seen within three periods.
DISPATCHER_REPORT_S = 5.0


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
