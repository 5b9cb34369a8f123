"""What the store returns: frozen, typed records. The API answers with the same models, so each
shape is defined once and the OpenAPI document (and the web client generated from it) is exact.

JSON the user owns (payload, result) stays `JsonValue`; everything dymunim writes has a type. A job's
error and log lines are stored as the executor's contract defines them (execute/contract.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from dymunim.domain import AttemptOutcome, JobId, JobStatus, StepKind, StepStatus
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
    worker_version: int | None = Field(default=None, description="The saved worker's version it ran")
    schedule_id: str | None = Field(default=None, description="The schedule whose fire started it")
    event_id: int | None = Field(default=None, description="The published event that started it")
    parent_job_id: int | None = Field(default=None, description="The job whose success started it (a chain)")
    steps: int | None = Field(default=None, description="Steps a workflow run has recorded; null: not a workflow")
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
    step_history: list[Step] | None = Field(default=None,
                                            description="A workflow's steps, in the order it reached them")
    waiting_for: WaitingFor | None = Field(default=None, description="What a `waiting` run waits for")
    inbox: list[InboxEvent] | None = Field(default=None, description="Events sent to the run, newest first")


class Step(Record):
    """One step of a workflow run (step.do, step.sleep / sleepUntil, step.waitForEvent), as it stands."""

    name: str
    seq: int = Field(description="The order the run first reached it, from 1")
    kind: StepKind
    status: StepStatus
    result: JsonValue = Field(default=None, description="do: what it returned; wait: the event it received")
    error: JobError | None = None
    attempts: int = Field(description="do: how often its callback ran, over all of the job's attempts")
    config: dict[str, JsonValue] | None = Field(default=None, description="do: its retries and timeout")
    until: datetime | None = Field(description="sleep: when it ends; wait: when it times out; retrying: next try")
    event_type: str | None = Field(description="wait: the event type it waits for")
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None = Field(description="do: its callback's last run")
    logs: list[LogLine] | None = Field(default=None, description="What the call that last ran it logged")


class WaitingFor(Record):
    step: str
    event_type: str
    timeout_at: datetime | None


class InboxEvent(Record):
    """An event sent to a run (POST /api/jobs/{id}/events)."""

    inbox_id: int
    type: str
    payload: JsonValue
    received_at: datetime
    taken_by: str | None = Field(description="The waitForEvent step that received it; null: not yet")


class SentEvent(Record):
    """The answer of POST /api/jobs/{id}/events."""

    inbox_id: int
    job_id: int
    type: str
    delivered_to: str | None = Field(description="The waiting step it woke; null: kept until the run waits for it")


class WorkerVersion(Record):
    """One immutable version of a saved worker's code."""

    version: int
    code_hash: str
    cache_id: str | None
    created_at: datetime
    code: str | None = Field(default=None, description="The code (one version only)")


class WorkerSummary(Record):
    """A saved worker as the list shows it: no code; its last run and how its newest runs went."""

    worker_id: str
    name: str
    version: int
    language: str
    cache_id: str | None
    code_hash: str
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None
    recent_finished: int = Field(description="Finished runs among its newest 100 jobs")
    recent_failed: int = Field(description="Failed or dead runs among its newest 100 jobs")
    failure_rate: float | None = Field(description="recent_failed / recent_finished; null before any finished")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WorkerSummary:
        done = row["recent_finished"]
        return cls.model_validate({**row, "failure_rate": row["recent_failed"] / done if done else None})


class SavedWorker(Record):
    """Code saved under a name, run again with new input. `version` is the one new jobs run."""

    worker_id: str
    name: str
    version: int
    code: str
    code_hash: str
    language: str
    cache_id: str | None
    created_at: datetime
    updated_at: datetime
    versions: list[WorkerVersion] | None = Field(default=None, description="Every version, newest first (one only)")
    recent_jobs: list[JobSummary] | None = Field(default=None, description="Newest jobs (one worker only)")
    schedules: list[Schedule] | None = Field(default=None, description="Schedules that run it (one worker only)")
    subscriptions: list[Subscription] | None = Field(default=None, description="Events it is subscribed to")


class Schedule(Record):
    """Work on a clock: a cron expression in a time zone, firing a saved worker or code of its own."""

    schedule_id: str
    name: str
    cron: str
    timezone: str
    worker_id: str | None
    code_hash: str | None
    language: str
    cache_id: str | None
    payload: JsonValue
    max_attempts: int | None
    timeout_ms: int | None
    retry_on_error: bool
    misfire: Literal["skip", "catch_up"]
    catch_up_limit: int
    paused: bool
    next_fire_at: datetime
    last_fire_at: datetime | None
    created_at: datetime
    updated_at: datetime
    code: str | None = Field(default=None, description="Inline code (one schedule only)")
    upcoming: list[datetime] | None = Field(default=None, description="The next fire times (unless paused)")
    recent_fires: list[ScheduleFire] | None = Field(default=None, description="Newest fires (one schedule only)")


class ScheduleFire(Record):
    fire_time: datetime
    fired_at: datetime
    job_id: int | None
    status: JobStatus | None


class Subscription(Record):
    """Events named `pattern` (or starting with it, if it ends in `*`) start a job of the worker."""

    subscription_id: str
    worker_id: str
    pattern: str
    created_at: datetime
    worker_name: str | None = None


class PublishedEvent(Record):
    """A named event and the jobs it started (one per subscriber at the time of the publish)."""

    event_id: int
    name: str
    data: JsonValue
    idempotency_key: str | None
    external_id: str | None
    trace_id: str | None
    run_at: datetime | None
    source_job_id: int | None
    created_at: datetime
    jobs: list[EventJob] = Field(description="The fan-out: one job per matching subscription")


class EventJob(Record):
    job_id: int
    worker_id: str | None
    status: JobStatus


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
    steps: int | None = None  # a workflow's recorded steps (its call reads them first)


@dataclass(frozen=True, slots=True)
class Created:
    """A job the submit statement inserted (or found under its idempotency key)."""

    job_id: JobId
    request_fingerprint: dict[str, str] | None = None


# Models above name models defined after them.
for _model in (SavedWorker, Schedule, PublishedEvent, Job):
    _model.model_rebuild()
