"""GET /api/events: Server-Sent Events, one per job state change, fed by LISTEN/NOTIFY.

`Last-Event-ID` (or `?last_event_id=`) resumes: the events this API process heard after that one are
replayed first (it keeps the last ~20,000), then live ones follow, none sent twice. When the id is
older than that window, an `event: resync` frame says so: the client re-reads the state it shows.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from dymunim.api.deps import State

router = APIRouter(prefix="/api", tags=["events"])

HEARTBEAT_S = 15.0


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
        async with state.hub.subscribe() as queue:
            yield b": connected\n\n"
            replayed: set[int] = set()
            if after is not None:
                missed = state.hub.since(after)
                if missed is None:
                    yield b"event: resync\ndata: {}\n\n"
                for past in missed or []:
                    replayed.add(past["event_id"])
                    yield _frame(past)
            while not await request.is_disconnected():
                try:
                    ev = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    yield b": heartbeat\n\n"
                    continue
                if "event_id" not in ev:
                    continue
                if replayed:  # heard while the replay was read: already sent
                    if ev["event_id"] in replayed:
                        continue
                    replayed.clear()
                yield _frame(ev)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
