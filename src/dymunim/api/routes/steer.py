"""Retry and cancel a job: 404 for an unknown job, 409 (saying why) when its state does not allow it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from dymunim.api import lookups
from dymunim.api.deps import State
from dymunim.steer import actions
from dymunim.store.models import Job

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def _check(result: actions.Steered, job_id: int, verb: str, allowed: str) -> None:
    if result.status_before is None:
        raise HTTPException(404, f"job {job_id} does not exist; list jobs with GET /api/jobs")
    if not result.done:
        raise HTTPException(409, f"job {job_id} is {result.status_before}; only {allowed} jobs can be {verb}")


@router.post("/{job_id}/retry", response_model=Job, summary="Run a failed or dead job again")
async def retry(job_id: int, state: State) -> Job:
    _check(await actions.retry(state.pool, job_id, state.settings.default_max_attempts), job_id, "retried",
           "failed or dead")
    return await lookups.job(state, job_id)


@router.post("/{job_id}/cancel", response_model=Job, summary="Cancel a queued, retrying, sleeping or waiting job")
async def cancel(job_id: int, state: State) -> Job:
    _check(await actions.cancel(state.pool, job_id), job_id, "cancelled", "queued, retrying, sleeping or waiting")
    return await lookups.job(state, job_id)
