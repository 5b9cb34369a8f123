"""/api/jobs: submit (executeDynamicWorker), get (getJobStatus), list (listJobs)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from dymunim.api import lookups
from dymunim.api.deps import State
from dymunim.api.idempotency import IdempotencyKey, answer, use_key
from dymunim.api.params import BIGINT_MAX, REPEAT, Wait
from dymunim.domain import JobStatus
from dymunim.notify.waits import wait_settled
from dymunim.store import jobs as store_jobs
from dymunim.store.jobs import JobFilter
from dymunim.store.models import Job, JobSummary
from dymunim.submit.jobs import submit
from dymunim.submit.spec import JobSpec

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


class JobPage(BaseModel):
    jobs: list[JobSummary]
    next_cursor: str | None


@router.post("", response_model=Job, status_code=201, responses=REPEAT, summary="Submit a job (executeDynamicWorker)")
async def submit_job(
    spec: JobSpec, state: State, response: Response, request: Request,
    idempotency_key: IdempotencyKey = None, wait: Wait = None,
) -> Job:
    use_key(spec, idempotency_key)
    if spec.trace_id is None:
        spec.trace_id = request.state.trace_id
    (sub,) = await submit(state.pool, [spec], state.settings)
    answer(sub, spec, response)
    if wait:
        await wait_settled(state.pool, state.hub, sub.job_id, wait)
    return await lookups.job(state, sub.job_id)


@router.get("/{job_id}", response_model=Job, summary="One job with its lifecycle events (getJobStatus)")
async def get_job(job_id: int, state: State) -> Job:
    return await lookups.job(state, job_id)


@router.get("", response_model=JobPage, summary="Jobs, newest first (listJobs)")
async def list_jobs(
    state: State,
    status: JobStatus | None = None,
    cache_id: str | None = None,
    worker_id: str | None = None,
    trace_id: Annotated[str | None, Query(description="A whole chain: every job sharing the trace id")] = None,
    schedule_id: str | None = None,
    event_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX)] = None,
    parent_job_id: Annotated[int | None, Query(ge=1, le=BIGINT_MAX, description="The children of a job")] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the error name or message")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page")
    ] = None,
) -> JobPage:
    jobs = await store_jobs.summaries(state.pool, JobFilter(
        status=status, before=int(cursor) if cursor else None, cache_id=cache_id, worker_id=worker_id,
        trace_id=trace_id, created_after=created_after, created_before=created_before, text=q, limit=limit,
        schedule_id=schedule_id, event_id=event_id, parent_job_id=parent_job_id,
    ))
    return JobPage(jobs=jobs, next_cursor=str(jobs[-1].job_id) if len(jobs) == limit else None)
