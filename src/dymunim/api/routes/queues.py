"""/api/queues and /api/dead-letters: look into pgmq, replay and purge the dead-letter queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from dymunim.api.deps import State
from dymunim.steer import actions
from dymunim.store import queues as store_queues
from dymunim.store.models import QueueInfo, QueueMessage

router = APIRouter(prefix="/api", tags=["queues"])


class Queues(BaseModel):
    queues: list[QueueInfo]


class Messages(BaseModel):
    messages: list[QueueMessage]


class Replayed(BaseModel):
    job_id: int


class ReplayedAll(BaseModel):
    replayed: int


class Purged(BaseModel):
    purged: int


@router.get("/queues", response_model=Queues, summary="Every pgmq queue with depth and ages")
async def list_queues(state: State) -> Queues:
    return Queues(queues=await store_queues.all_queues(state.pool))


async def _peek(state: State, name: str, limit: int) -> Messages:
    msgs = await store_queues.peek(state.pool, name, limit)
    if msgs is None:
        raise HTTPException(404, f"queue {name!r} does not exist; GET /api/queues lists them")
    return Messages(messages=msgs)


@router.get("/queues/{name}/messages", response_model=Messages, summary="Peek at messages without claiming them")
async def queue_messages(name: str, state: State, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Messages:
    return await _peek(state, name, limit)


@router.get("/dead-letters", response_model=Messages, summary="Messages in the dead-letter queue")
async def dead_letters(state: State, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Messages:
    return await _peek(state, store_queues.DEAD_LETTERS, limit)


@router.post("/dead-letters/{msg_id}/replay", response_model=Replayed,
             summary="Run a dead job again from its dead letter")
async def replay(msg_id: int, state: State) -> Replayed:
    found = await actions.replay_dead_letter(state.pool, msg_id, state.settings.default_max_attempts)
    if found is None:
        raise HTTPException(404, f"dead letter {msg_id} does not exist; GET /api/dead-letters lists them")
    job_id, result = found
    if not result.done:
        raise HTTPException(409, f"job {job_id} is {result.status_before}, not dead; nothing to replay")
    return Replayed(job_id=job_id)


@router.post("/dead-letters/replay-all", response_model=ReplayedAll, summary="Run every dead-lettered job again")
async def replay_all(state: State) -> ReplayedAll:
    return ReplayedAll(replayed=await actions.replay_all(state.pool, state.settings.default_max_attempts))


@router.delete("/dead-letters", response_model=Purged, summary="Purge the dead-letter queue (needs confirm=true)")
async def purge(state: State, confirm: bool = False) -> Purged:
    if not confirm:
        raise HTTPException(409, "purging deletes every dead letter for good; repeat with ?confirm=true")
    return Purged(purged=await actions.purge_dead_letters(state.pool))
