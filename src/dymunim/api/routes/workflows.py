"""Workflow runs: send an event to a run (step.waitForEvent takes it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from dymunim.api.deps import State
from dymunim.api.params import BIGINT_MAX
from dymunim.domain import unstorable
from dymunim.store.models import SentEvent
from dymunim.workflow import inbox

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


class RunEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=200, examples=["approved"],
                      description="The type a step.waitForEvent waits for")
    payload: JsonValue = Field(default=None, description="What the waiting step receives as event.payload")

    @field_validator("type", "payload")
    @classmethod
    def _storable(cls, v: Any) -> Any:
        if problem := unstorable(v):
            raise ValueError(problem)
        return v


@router.post("/{job_id}/events", response_model=SentEvent, status_code=202,
             summary="Send an event to a workflow run (step.waitForEvent)",
             description="A run waiting for this type takes it at once and goes on; a run that has not finished "
                         "keeps it until it waits for this type (at most 1,000 untaken). 409 once the job has "
                         "finished.")
async def send_event(job_id: int, body: RunEventIn, state: State) -> SentEvent:
    if not 1 <= job_id <= BIGINT_MAX:
        raise HTTPException(404, f"job {job_id} does not exist; list jobs with GET /api/jobs")
    d = await inbox.send(state.pool, job_id, body.type, body.payload)
    if d.status_before is None:
        raise HTTPException(404, f"job {job_id} does not exist; list jobs with GET /api/jobs")
    if d.full:
        raise HTTPException(409, f"job {job_id} keeps {inbox.MAX_KEPT} events no step has taken; it takes one "
                                 "when it waits for that type: send more once it has")
    if d.sent is None:
        raise HTTPException(409, f"job {job_id} is {d.status_before}; events can be sent only to a run that has "
                                 "not finished")
    return d.sent
