"""/api/jobs: submit (executeDynamicWorker), get (getJobStatus), list (listJobs)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from dymunim.api.deps import State
from dymunim.api.idempotency import IdempotencyKey, answer, use_key
from dymunim.api.views import Job, JobPage, job_of
from dymunim.db.queries import q
from dymunim.domain import TERMINAL, JobStatus
from dymunim.submit.jobs import SubmitError, submit_jobs
from dymunim.submit.spec import JobSpec

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MAX_WAIT_S = 300


async def load_job(state: State, job_id: int, *, events: bool = True) -> Job | None:
    async with state.pool.connection() as conn:
        cur = await conn.execute(q("get_job"), {"job_id": job_id})
        row = await cur.fetchone()
        if row is None:
            return None
        evs: list[dict[str, Any]] | None = None
        attempts: list[dict[str, Any]] | None = None
        if events:
            evs = list(await (await conn.execute(q("job_events"), {"job_id": job_id})).fetchall())
            attempts = list(await (await conn.execute(q("job_attempts"), {"job_id": job_id})).fetchall())
    return job_of(row, evs, attempts)


async def _status(state: State, job_id: int) -> str | None:
    async with state.pool.connection() as conn:
        cur = await conn.execute(q("job_statuses"), {"job_ids": [job_id]})
        row = await cur.fetchone()
    return row["status"] if row else None


async def wait_terminal(state: State, job_id: int, seconds: float) -> None:
    """Return once the job is terminal or `seconds` pass; woken by NOTIFY, re-checked from the table."""
    deadline = time.monotonic() + seconds
    with state.hub.watch_job(job_id) as changed:
        while True:
            changed.clear()
            if await _status(state, job_id) in TERMINAL:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            # Re-check the table at least every 2 s: a missed notification must not hang a waiter.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(left, 2.0))


def like_literal(text: str) -> str:
    """The user's text as a LIKE pattern that matches only itself (the query says ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _found(job: Job | None, job_id: int) -> Job:
    if job is None:
        raise HTTPException(404, f"job {job_id} does not exist; list jobs with GET /api/jobs")
    return job


@router.post("", response_model=Job, status_code=201, summary="Submit a job (executeDynamicWorker)")
async def submit(
    spec: JobSpec,
    state: State,
    response: Response,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[
        float | None, Query(ge=0, le=MAX_WAIT_S, description="Seconds to wait for a terminal state")
    ] = None,
) -> Job:
    use_key(spec, idempotency_key)
    if spec.trace_id is None:
        spec.trace_id = request.state.trace_id
    try:
        async with state.pool.connection() as conn:
            (sub,) = await submit_jobs(conn, [spec], state.settings)
    except SubmitError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    answer(sub, spec, response)
    if wait:
        await wait_terminal(state, sub.job_id, wait)
    return _found(await load_job(state, sub.job_id), sub.job_id)


@router.get("/{job_id}", response_model=Job, summary="One job with its lifecycle events (getJobStatus)")
async def get_job(job_id: int, state: State) -> Job:
    return _found(await load_job(state, job_id), job_id)


@router.get("", response_model=JobPage, summary="Jobs, newest first (listJobs)")
async def list_jobs(
    state: State,
    status: JobStatus | None = None,
    cache_id: str | None = None,
    worker_id: str | None = None,
    trace_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    q_: Annotated[str | None, Query(alias="q", max_length=200, description="Text in the error name or message")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page")
    ] = None,
) -> JobPage:
    async with state.pool.connection() as conn:
        cur = await conn.execute(q("list_jobs"), {
            "status": status, "before": int(cursor) if cursor else None, "limit": limit,
            "cache_id": cache_id, "worker_id": worker_id, "trace_id": trace_id,
            "created_after": created_after, "created_before": created_before, "q": like_literal(q_) if q_ else None,
        })
        rows = await cur.fetchall()
    jobs = [job_of(r) for r in rows]
    nxt = str(jobs[-1].job_id) if len(jobs) == limit else None
    return JobPage(jobs=jobs, next_cursor=nxt)
