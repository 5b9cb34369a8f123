"""POST /api/jobs/batch: up to 1,000 jobs in one transaction; invalid items are reported, not fatal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, ValidationError

from dymunim.api.deps import State
from dymunim.api.errors import messages
from dymunim.api.idempotency import conflict
from dymunim.submit.jobs import SubmitError, check_limits, submit
from dymunim.submit.spec import JobSpec

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MAX_BATCH = 1000


class BatchIn(BaseModel):
    # Any, not JsonValue: each item is validated as a JobSpec below (walking it twice cost ~2% of submit).
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
            errors.append(BatchError(index=i, error=messages(exc)))
        except SubmitError as exc:
            errors.append(BatchError(index=i, error=str(exc)))
    ids: list[int | None] = [None] * len(body.jobs)
    if specs:
        # Keys contended past every retry raise KeysContended (a 409): nothing of this batch was written.
        subs = await submit(state.pool, [s for _, s in specs], state.settings)
        for (i, spec), sub in zip(specs, subs, strict=True):
            if sub.differs:
                # Its key belongs to another request (earlier, or earlier in this batch): no job for it.
                errors.append(BatchError(index=i, error=conflict(sub, spec.idempotency_key)))
            else:
                ids[i] = sub.job_id
        errors.sort(key=lambda e: e.index)
    return BatchOut(ids=ids, errors=errors)
