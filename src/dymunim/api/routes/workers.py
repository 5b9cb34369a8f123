"""Saved workers: code under a name, run again with new input."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from psycopg import errors
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dymunim.api.deps import State
from dymunim.api.errors import validate
from dymunim.api.idempotency import IdempotencyKey, answer, use_key
from dymunim.api.routes.jobs import MAX_WAIT_S, load_job, wait_terminal
from dymunim.api.views import Job, job_of
from dymunim.db.queries import q
from dymunim.domain import Language
from dymunim.submit.jobs import SubmitError, check_code_size, code_hash, submit_jobs
from dymunim.submit.spec import JobSpec

router = APIRouter(prefix="/api/workers", tags=["workers"])


class WorkerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1)
    language: Language = "javascript"
    cache_id: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")

    @field_validator("name", "code")
    @classmethod
    def _no_nul(cls, v: str) -> str:
        if "\x00" in v:
            raise ValueError("contains a NUL character (\\u0000), which cannot be stored; remove it")
        return v


class Worker(BaseModel):
    worker_id: str
    name: str
    code: str
    code_hash: str
    language: str
    cache_id: str | None
    created_at: datetime
    jobs: int | None = None
    recent_jobs: list[Job] | None = None


class Workers(BaseModel):
    workers: list[Worker]


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: Any = None
    timeout_ms: int | None = Field(default=None, ge=1)
    max_attempts: int | None = Field(default=None, ge=1, le=100)


async def _get(state: State, worker_id: str) -> dict[str, Any]:
    async with state.pool.connection() as conn:
        row = await (await conn.execute(q("get_worker"), {"worker_id": worker_id})).fetchone()
    if row is None:
        raise HTTPException(404, f"worker {worker_id} does not exist; GET /api/workers lists them")
    return dict(row)


@router.post("", response_model=Worker, status_code=201, summary="Save code as a named worker")
async def create(body: WorkerIn, state: State) -> Worker:
    try:
        check_code_size(body.code, state.settings)
    except SubmitError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    h = code_hash(body.code)
    try:
        async with state.pool.connection() as conn, conn.transaction():
            await conn.execute(q("insert_code"), {"code_hashes": [h], "codes": [body.code],
                                                  "languages": [body.language]})
            row = await (await conn.execute(q("create_worker"), {
                "name": body.name, "code_hash": h, "language": body.language, "cache_id": body.cache_id,
            })).fetchone()
    except errors.UniqueViolation:
        raise HTTPException(409, f"a worker named {body.name!r} exists already; choose another name") from None
    assert row is not None
    return Worker.model_validate(await _get(state, row["worker_id"]))


@router.get("", response_model=Workers, summary="Saved workers, newest first")
async def list_workers(state: State, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Workers:
    async with state.pool.connection() as conn:
        rows = await (await conn.execute(q("list_workers"), {"limit": limit})).fetchall()
    return Workers(workers=[Worker.model_validate(r) for r in rows])


@router.get("/{worker_id}", response_model=Worker, summary="A saved worker and its recent jobs")
async def get_worker(worker_id: str, state: State) -> Worker:
    w = await _get(state, worker_id)
    async with state.pool.connection() as conn:
        rows = await (await conn.execute(q("list_jobs"), {
            "status": None, "before": None, "cache_id": None, "worker_id": worker_id, "trace_id": None,
            "created_after": None, "created_before": None, "q": None, "limit": 20,
        })).fetchall()
    return Worker.model_validate({**w, "recent_jobs": [job_of(r) for r in rows]})


@router.post("/{worker_id}/run", response_model=Job, status_code=201, summary="Run a saved worker with a payload")
async def run(
    worker_id: str, body: RunIn, state: State, response: Response, request: Request,
    idempotency_key: IdempotencyKey = None,
    wait: Annotated[float | None, Query(ge=0, le=MAX_WAIT_S)] = None,
) -> Job:
    w = await _get(state, worker_id)
    spec = validate(JobSpec, {"code": w["code"], "payload": body.payload, "cache_id": w["cache_id"],
                              "timeout_ms": body.timeout_ms, "max_attempts": body.max_attempts,
                              "trace_id": request.state.trace_id})
    spec.worker_id = worker_id
    use_key(spec, idempotency_key)
    try:
        async with state.pool.connection() as conn:
            (sub,) = await submit_jobs(conn, [spec], state.settings)
    except SubmitError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    answer(sub, spec, response)
    if wait:
        await wait_terminal(state, sub.job_id, wait)
    job = await load_job(state, sub.job_id)
    assert job is not None
    return job
