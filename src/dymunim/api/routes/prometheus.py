"""GET /metrics: Prometheus exposition (a browser asking for /metrics gets the UI page: see api/spa.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dymunim.api.deps import State
from dymunim.report.prometheus import CONTENT_TYPE, exposition
from dymunim.store import metrics as store_metrics
from dymunim.store import queues as store_queues

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}}})
async def prometheus(state: State) -> Response:
    w = await store_metrics.all_time(state.pool)
    return Response(exposition(w, await store_queues.all_queues(state.pool)), media_type=CONTENT_TYPE)
