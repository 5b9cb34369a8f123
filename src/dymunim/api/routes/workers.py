"""Saved workers: code under a name, run again with new input."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from dymunim.api import lookups
from dymunim.api.deps import State
from dymunim.api.errors import validate
from dymunim.api.idempotency import IdempotencyKey, answer, use_key
from dymunim.api.params import REPEAT, Wait
from dymunim.domain import Language
from dymunim.notify.waits import wait_settled
from dymunim.store import events as store_events
from dymunim.store import jobs as store_jobs
from dymunim.store import schedules as store_schedules
from dymunim.store import workers as store_workers
from dymunim.store.jobs import JobFilter
from dymunim.store.models import Job, SavedWorker, WorkerSummary, WorkerVersion
from dymunim.submit import workers as saved
from dymunim.submit.jobs import Origin, submit
from dymunim.submit.spec import JobSpec

router = APIRouter(prefix="/api/workers", tags=["workers"])

RECENT_JOBS = 20


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


class Workers(BaseModel):
    workers: list[WorkerSummary]


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1)
    language: Language = "javascript"
    cache_id: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")

    @field_validator("code")
    @classmethod
    def _no_nul(cls, v: str) -> str:
        if "\x00" in v:
            raise ValueError("contains a NUL character (\\u0000), which cannot be stored; remove it")
        if not v.strip():
            raise ValueError("code is blank: send a function body such as `return payload.a + payload.b`")
        return v


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payload: JsonValue = None
    timeout_ms: int | None = Field(default=None, ge=1)
    max_attempts: int | None = Field(default=None, ge=1, le=100)


@router.post("", response_model=SavedWorker, status_code=201, summary="Save code as a named worker (version 1)")
async def create_worker(body: WorkerIn, state: State) -> SavedWorker:
    worker_id = await saved.save(state.pool, state.settings, name=body.name, code=body.code,
                                 language=body.language, cache_id=body.cache_id)
    return await lookups.worker(state, worker_id)


@router.get("", response_model=Workers, summary="Saved workers, last changed first, with last run and failure rate")
async def list_workers(
    state: State,
    q: Annotated[str | None, Query(max_length=200, description="Text in the name")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Workers:
    return Workers(workers=await store_workers.search(state.pool, q, limit))


@router.get("/{worker_id}", response_model=SavedWorker,
            summary="A saved worker: versions, recent jobs, schedules and subscriptions")
async def get_worker(worker_id: str, state: State) -> SavedWorker:
    w = await lookups.worker(state, worker_id)
    return w.model_copy(update={
        "versions": await store_workers.versions(state.pool, worker_id),
        "recent_jobs": await store_jobs.summaries(state.pool, JobFilter(worker_id=worker_id, limit=RECENT_JOBS)),
        "schedules": await store_schedules.for_worker(state.pool, worker_id),
        "subscriptions": await store_events.subscriptions(state.pool, worker_id=worker_id),
    })


@router.post("/{worker_id}/versions", response_model=SavedWorker, status_code=201,
             summary="Save new code as the worker's next version (jobs already created keep theirs)")
async def save_version(worker_id: str, body: VersionIn, state: State) -> SavedWorker:
    found = await saved.save_version(state.pool, state.settings, worker_id=worker_id, code=body.code,
                                     language=body.language, cache_id=body.cache_id)
    if found is None:
        await lookups.worker(state, worker_id)  # the 404
    return await get_worker(worker_id, state)


@router.get("/{worker_id}/versions/{version}", response_model=WorkerVersion, summary="One version's code")
async def get_worker_version(worker_id: str, version: Annotated[int, Path(ge=1, le=2**31 - 1)],
                             state: State) -> WorkerVersion:
    found = await store_workers.version(state.pool, worker_id, version)
    if found is None:
        await lookups.worker(state, worker_id)
        raise HTTPException(404, f"worker {worker_id} has no version {version}; GET /api/workers/{worker_id} "
                                 "lists its versions")
    return found


@router.post("/{worker_id}/run", response_model=Job, status_code=201, responses=REPEAT,
             summary="Run a saved worker with a payload")
async def run_worker(
    worker_id: str, body: RunIn, state: State, response: Response, request: Request,
    idempotency_key: IdempotencyKey = None, wait: Wait = None,
) -> Job:
    w = await lookups.worker(state, worker_id)
    spec = validate(JobSpec, {"code": w.code, "payload": body.payload, "cache_id": w.cache_id,
                              "timeout_ms": body.timeout_ms, "max_attempts": body.max_attempts,
                              "trace_id": request.state.trace_id})
    use_key(spec, idempotency_key)
    (sub,) = await submit(state.pool, [spec], state.settings,
                          Origin(worker_id=worker_id, worker_version=w.version))
    answer(sub, spec, response)
    if wait:
        await wait_settled(state.pool, state.hub, sub.job_id, wait)
    return await lookups.job(state, sub.job_id)
