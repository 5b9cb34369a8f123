"""Retry and cancel a job: 404 for an unknown job, 409 (saying why) when its state does not allow it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from dymunim.api.deps import State
from dymunim.api.routes.jobs import load_job
from dymunim.api.views import Job
from dymunim.steer import actions

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def _check(result: actions.Steered, job_id: int, verb: str, allowed: str) -> None:
    if result.status_before is None:
        raise HTTPException(404, f"job {job_id} does not exist; list jobs with GET /api/jobs")
    if not result.done:
        raise HTTPException(409, f"job {job_id} is {result.status_before}; only {allowed} jobs can be {verb}")


@router.post("/{job_id}/retry", response_model=Job, summary="Run a failed or dead job again")
async def retry(job_id: int, state: State) -> Job:
    async with state.pool.connection() as conn, conn.transaction():
        result = await actions.retry(conn, job_id, state.settings.default_max_attempts)
    _check(result, job_id, "retried", "failed or dead")
    job = await load_job(state, job_id)
    assert job is not None
    return job


@router.post("/{job_id}/cancel", response_model=Job, summary="Cancel a queued or retrying job")
async def cancel(job_id: int, state: State) -> Job:
    async with state.pool.connection() as conn, conn.transaction():
        result = await actions.cancel(conn, job_id)
    _check(result, job_id, "cancelled", "queued or retrying")
    job = await load_job(state, job_id)
    assert job is not None
    return job
