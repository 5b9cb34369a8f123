"""GET /api/events: Server-Sent Events, one per job state change, fed by LISTEN/NOTIFY.

`Last-Event-ID` (or `?last_event_id=`) resumes: missed events are replayed from job_events first,
then live ones follow; an event id never goes backwards, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from dymunim.api.deps import State
from dymunim.store import jobs as store_jobs

router = APIRouter(prefix="/api", tags=["events"])

HEARTBEAT_S = 15.0
REPLAY_LIMIT = 10_000


def _frame(ev: dict[str, Any]) -> bytes:
    return f"id: {ev['event_id']}\ndata: {json.dumps(ev, default=str)}\n\n".encode()


@router.get("/events", summary="Live job events (Server-Sent Events)", response_class=StreamingResponse,
            responses={200: {"description": "One `data:` line per transition, each a LiveEvent as JSON",
                             "content": {"text/event-stream": {"schema": {"$ref": "#/components/schemas/LiveEvent"}}}}})
async def events(
    request: Request,
    state: State,
    last_event_id: Annotated[str | None, Header()] = None,
    last_event_id_q: Annotated[int | None, Query(alias="last_event_id", ge=0)] = None,
) -> StreamingResponse:
    after: int | None = last_event_id_q
    if last_event_id and last_event_id.isdigit():
        after = int(last_event_id)

    async def stream() -> AsyncIterator[bytes]:
        last = after
        async with state.hub.subscribe() as queue:
            yield b": connected\n\n"
            if last is not None:
                for past in await store_jobs.events_since(state.pool, last, REPLAY_LIMIT):
                    last = past.event_id
                    yield _frame(past.model_dump(mode="json", by_alias=True))
            while not await request.is_disconnected():
                try:
                    ev = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if "event_id" not in ev or (last is not None and ev["event_id"] <= last):
                    continue
                last = ev["event_id"]
                yield _frame(ev)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
