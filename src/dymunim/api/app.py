"""The control-plane HTTP app: routes, auth, limits, error shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from pydantic.json_schema import models_json_schema

from dymunim.api import docs, errors, spa
from dymunim.api.deps import AppState, require_token
from dymunim.api.limits import BodyLimit
from dymunim.api.middleware import RateLimiter, RequestContext
from dymunim.api.routes import (
    batch,
    events,
    health,
    jobs,
    metrics,
    prometheus,
    published,
    queues,
    schedules,
    steer,
    workers,
    workflows,
)
from dymunim.db.pool import open_pool
from dymunim.execute.client import ExecutorClient
from dymunim.notify.hub import EventHub
from dymunim.settings import Settings
from dymunim.store.models import LiveEvent


def _document_live_events(app: FastAPI) -> None:
    """/api/events streams LiveEvent objects as SSE; no JSON route returns one, so add its schema by hand."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base()
            _, defs = models_json_schema([(LiveEvent, "serialization")], ref_template="#/components/schemas/{model}")
            schema["components"]["schemas"].update(defs["$defs"])
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings, dsn: str, executor_url: str, ready_file: Path | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(dsn, min_size=2, max_size=20, name="dymunim api")
        hub = EventHub(dsn)
        await hub.start()
        executor = ExecutorClient(executor_url, settings.executor_token)
        app.state.dymunim = AppState(settings, dsn, pool, hub, executor)
        if ready_file:
            ready_file.write_text("ready")
        try:
            yield
        finally:
            await hub.stop()
            await executor.aclose()
            await pool.close()

    app = FastAPI(
        title="dymunim",
        version="0.1.0",
        lifespan=lifespan,
        description="Durable jobs for arbitrary code: submit, watch and steer runs.",
        docs_url=None,  # FastAPI's own pages load Swagger UI / ReDoc from a CDN; docs.install serves ours
        redoc_url=None,
        # operationIds are the route functions' names (getJob, not get_job_api_jobs__job_id__get): the
        # web client generated from /openapi.json reads better, and a rename shows up as drift.
        generate_unique_id_function=lambda route: route.name,
        responses=errors.PROBLEM_RESPONSES,
    )
    _document_live_events(app)
    errors.install(app)
    app.add_middleware(spa.SharedPaths)  # innermost: its pages get the same headers and logs as any answer
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    limiter = (RateLimiter(settings.submit_rate_per_s, settings.submit_burst)
               if settings.submit_rate_per_s > 0 else None)
    app.add_middleware(RequestContext, limiter=limiter)  # outermost: logs every request, even a 413
    app.include_router(health.router)
    app.include_router(prometheus.router)
    # batch before jobs: /api/jobs/batch must not be read as a job id
    for module in (batch, jobs, steer, workflows, queues, metrics, workers, schedules, published, events):
        app.include_router(module.router, dependencies=[Depends(require_token)])
    app.include_router(health.detail_router, dependencies=[Depends(require_token)])
    docs.install(app)
    spa.install(app)  # last: only paths no route above claims fall through to the UI
    return app
