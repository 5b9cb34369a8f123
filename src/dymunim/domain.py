"""Names for the things dymunim moves around."""

from __future__ import annotations

from typing import Literal, NewType, get_args

JobId = NewType("JobId", int)
MsgId = NewType("MsgId", int)

JobStatus = Literal["queued", "running", "succeeded", "failed", "retrying", "dead", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "dead", "cancelled"})

Language = Literal["javascript"]

JOBS_QUEUE = "jobs"
DLQ_QUEUE = "jobs_dlq"
JOB_EVENTS_CHANNEL = "dymunim_jobs"
