"""What a client may ask for when it submits a job, validated before anything is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dymunim.domain import Language, unstorable


class JobSpec(BaseModel):
    """One job to run. Unknown fields are refused so a typo never silently does nothing."""

    # Which saved worker a job runs is not a field: only the saved-worker route says it (submit's
    # worker_id), so a client can never attribute a job to a worker it did not run.

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, description="JavaScript: a function body, or a module with a default export")
    payload: Any = Field(default=None, description="Any JSON value; the code receives it as `payload`")
    language: Language = "javascript"
    cache_id: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Keep a warm isolate under this id (the code hash is appended, so new code gets a new isolate)",
    )
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    timeout_ms: int | None = Field(default=None, ge=1)
    retry_on_error: bool = Field(
        default=False, description="Retry user-code failures too, not only infrastructure ones"
    )
    trace_id: str | None = Field(default=None, max_length=200)
    delay_ms: int | None = Field(default=None, ge=0, le=366 * 24 * 3600 * 1000)
    run_at: datetime | None = None
    @field_validator("code", "cache_id", "idempotency_key", "trace_id")
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        if v is not None and "\x00" in v:
            raise ValueError("contains a NUL character (\\u0000), which cannot be stored; remove it")
        return v

    @field_validator("payload")
    @classmethod
    def _payload_storable(cls, v: Any) -> Any:
        if problem := unstorable(v):
            raise ValueError(problem)
        return v

    @field_validator("code")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("code is blank: send a function body such as `return payload.a + payload.b`")
        return v

    @field_validator("run_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("run_at needs a time zone, e.g. 2026-01-01T12:00:00Z")
        return v


def invalid(exc: ValidationError) -> str:
    """What was wrong with a spec dymunim built itself (a fire, a child), field by field."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
