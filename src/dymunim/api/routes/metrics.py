"""/api/metrics (getMetrics): counts, throughput, latency percentiles, cold/warm, top failing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dymunim.api.deps import State
from dymunim.report.metrics import Metrics, summarize
from dymunim.store import metrics as store_metrics

router = APIRouter(prefix="/api", tags=["metrics"])


@router.get("/metrics", response_model=Metrics, summary="Counts, throughput and latency (getMetrics)")
async def metrics(state: State, range_minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60) -> Metrics:
    return summarize(await store_metrics.window(state.pool, range_minutes), range_minutes)
