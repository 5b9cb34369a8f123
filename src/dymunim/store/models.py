"""What the store returns: frozen, typed records. The API answers with the same models, so each
shape is defined once and the OpenAPI document (and the web client generated from it) is exact.

JSON the user owns (payload, result) stays `JsonValue`; everything dymunim writes has a type. A job's
error and log lines are stored as the executor's contract defines them (execute/contract.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from dymunim.domain import AttemptOutcome, JobId, JobStatus
from dymunim.execute.contract import JobError, LogLine  # stored as the executor reported them


class Record(BaseModel):
    # Fields with a default are still always sent: the OpenAPI document marks them required.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class JobEvent(Record):
    """One status transition. Stored transitions have an id; those read from the job's own row (the
    common path stores none: see store/history.py) have none."""

    event_id: int | None
    from_status: JobStatus | None
    to_status: JobStatus
    attempt: int
    at: datetime
    detail: dict[str, JsonValue] | None = None


class LiveEvent(Record):
    """One transition as `/api/events` streams it (what the jobs_state triggers NOTIFY). event_id numbers
    live events in the order they were sent (a sequence, not a job_events row)."""

    event_id: int
    job_id: int
    status: JobStatus
    from_: JobStatus | None = Field(alias="from", serialization_alias="from")
    attempt: int
    at: datetime

    model_config = ConfigDict(frozen=True, populate_by_name=True, json_schema_serialization_defaults_required=True)


class JobAttempt(Record):
    """One finished (or lost) attempt."""

    attempt: int
    outcome: AttemptOutcome
    started_at: datetime | None
    finished_at: datetime
    duration_ms: float | None
    cold_start: bool | None
    error: JobError | None = None


class _JobFields(Record):
    """What a job row says about itself, shown in lists and in full."""

    job_id: int
    status: JobStatus
    error: JobError | None = None
    code_hash: str
    language: str
    worker_id: str | None
    cache_id: str | None
    attempts: int
    max_attempts: int
    timeout_ms: int
    retry_on_error: bool
    idempotency_key: str | None
    trace_id: str | None
    run_at: datetime | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    cold_start: bool | None


class JobSummary(_JobFields):
    """A job as lists show it: no code, payload or logs; the result as a short preview."""

    result_preview: str | None = Field(description="The result as JSON text, cut to 200 characters")


class Job(_JobFields):
    """A job with everything it holds; `events` and `attempt_history` when asked for one job."""

    job_type: str
    payload: JsonValue
    result: JsonValue = None
    code: str
    execution_logs: list[LogLine]
    logs_truncated: bool
    msg_id: int | None
    events: list[JobEvent] | None = None
    attempt_history: list[JobAttempt] | None = None


class SavedWorker(Record):
    """Code saved under a name, run again with new input."""

    worker_id: str
    name: str
    code: str
    code_hash: str
    language: str
    cache_id: str | None
    created_at: datetime
    jobs: int | None = Field(default=None, description="How many jobs ran this worker (lists only)")
    recent_jobs: list[JobSummary] | None = Field(default=None, description="Newest jobs (one worker only)")


class QueueInfo(Record):
    queue_name: str
    queue_length: int
    newest_msg_age_sec: int | None
    oldest_msg_age_sec: int | None
    total_messages: int


class QueueMessage(Record):
    msg_id: int
    read_ct: int
    enqueued_at: datetime
    vt: datetime
    message: JsonValue


class DispatcherSeen(Record):
    dispatcher_id: str
    hostname: str
    pid: int
    started_at: datetime
    last_seen: datetime
    in_flight: int
    overdue: int


# Internal records on the hot path: plain frozen dataclasses (cheaper to build than pydantic models).


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job whose attempt this claim started: everything the executor call needs."""

    job_id: int
    msg_id: int
    attempts: int
    code: str
    code_hash: str
    payload: Any
    cache_id: str | None
    timeout_ms: int
    trace_id: str | None
    max_attempts: int
    retry_on_error: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Created:
    """A job the submit statement inserted (or found under its idempotency key)."""

    job_id: JobId
    request_fingerprint: dict[str, str] | None = None
