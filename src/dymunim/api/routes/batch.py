"""POST /api/jobs/batch: up to 1,000 jobs in one transaction; invalid items are reported, not fatal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, ValidationError

from dymunim.api.deps import State
from dymunim.api.errors import describe
from dymunim.submit.jobs import SubmitError, check_limits, submit_jobs
from dymunim.submit.spec import JobSpec

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MAX_BATCH = 1000


class BatchIn(BaseModel):
    jobs: list[Any] = Field(description=f"Up to {MAX_BATCH} job objects, each as for POST /api/jobs")


class BatchError(BaseModel):
    index: int
    error: str


class BatchOut(BaseModel):
    ids: list[int | None] = Field(description="job id per input item, null where the item was invalid")
    errors: list[BatchError]


@router.post("/batch", response_model=BatchOut, status_code=201, summary="Submit many jobs at once")
async def submit_batch(body: BatchIn, state: State) -> BatchOut:
    if len(body.jobs) > MAX_BATCH:
        raise HTTPException(413, f"batch has {len(body.jobs)} jobs; the limit is {MAX_BATCH} per request")
    specs: list[tuple[int, JobSpec]] = []
    errors: list[BatchError] = []
    for i, item in enumerate(body.jobs):
        try:
            spec = JobSpec.model_validate(item)
            check_limits(spec, state.settings)
            specs.append((i, spec))
        except ValidationError as exc:
            msgs = [describe(dict(e))["message"] for e in exc.errors()]
            errors.append(BatchError(index=i, error="; ".join(msgs)))
        except SubmitError as exc:
            errors.append(BatchError(index=i, error=str(exc)))
    ids: list[int | None] = [None] * len(body.jobs)
    if specs:
        async with state.pool.connection() as conn:
            subs = await submit_jobs(conn, [s for _, s in specs], state.settings)
        for (i, _), sub in zip(specs, subs, strict=True):
            ids[i] = sub.job_id
    return BatchOut(ids=ids, errors=errors)
