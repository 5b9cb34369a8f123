"""Look a thing up by the id in the path, or answer 404 saying where to find the ids."""

from __future__ import annotations

from fastapi import HTTPException

from dymunim.api.deps import AppState
from dymunim.store import jobs as store_jobs
from dymunim.store import workers as store_workers
from dymunim.store.models import Job, SavedWorker


async def job(state: AppState, job_id: int) -> Job:
    """The job with its history."""
    found = await store_jobs.get(state.pool, job_id)
    if found is None:
        raise HTTPException(404, f"job {job_id} does not exist; list jobs with GET /api/jobs")
    return found


async def worker(state: AppState, worker_id: str) -> SavedWorker:
    found = await store_workers.get(state.pool, worker_id)
    if found is None:
        raise HTTPException(404, f"worker {worker_id} does not exist; GET /api/workers lists them")
    return found
