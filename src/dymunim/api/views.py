"""Rows from the database as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class JobEvent(BaseModel):
    event_id: int
    from_status: str | None
    to_status: str
    attempt: int
    at: datetime
    detail: Any = None


class JobAttempt(BaseModel):
    attempt: int
    outcome: str
    started_at: datetime | None
    finished_at: datetime
    duration_ms: float | None
    cold_start: bool | None
    error: Any = None


class Job(BaseModel):
    job_id: int
    job_type: str
    status: str
    payload: Any
    result: Any = None
    error: Any = None
    code: str
    code_hash: str
    language: str
    worker_id: str | None
    cache_id: str | None
    execution_logs: list[Any]
    logs_truncated: bool
    attempts: int
    max_attempts: int
    timeout_ms: int
    retry_on_error: bool
    idempotency_key: str | None
    trace_id: str | None
    msg_id: int | None
    run_at: datetime | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    cold_start: bool | None
    events: list[JobEvent] | None = None
    attempt_history: list[JobAttempt] | None = None


class JobPage(BaseModel):
    jobs: list[Job]
    next_cursor: str | None


def job_of(
    row: dict[str, Any], events: list[dict[str, Any]] | None = None, attempts: list[dict[str, Any]] | None = None
) -> Job:
    return Job.model_validate({**row, "events": events, "attempt_history": attempts})
