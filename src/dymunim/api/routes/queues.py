"""/api/queues and /api/dead-letters: look into pgmq, replay and purge the dead-letter queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from psycopg import sql
from pydantic import BaseModel

from dymunim.api.deps import State
from dymunim.db.queries import q
from dymunim.domain import DLQ_QUEUE
from dymunim.steer import actions

router = APIRouter(prefix="/api", tags=["queues"])


class QueueInfo(BaseModel):
    queue_name: str
    queue_length: int
    newest_msg_age_sec: int | None
    oldest_msg_age_sec: int | None
    total_messages: int


class Queues(BaseModel):
    queues: list[QueueInfo]


class Message(BaseModel):
    msg_id: int
    read_ct: int
    enqueued_at: datetime
    vt: datetime
    message: Any


class Messages(BaseModel):
    messages: list[Message]


@router.get("/queues", response_model=Queues, summary="Every pgmq queue with depth and ages")
async def list_queues(state: State) -> Queues:
    async with state.pool.connection() as conn:
        rows = await (await conn.execute(q("queue_metrics"))).fetchall()
    return Queues(queues=[QueueInfo.model_validate(r) for r in rows])


async def peek(state: State, name: str, limit: int) -> Messages:
    async with state.pool.connection() as conn:
        if await (await conn.execute(q("queue_exists"), {"name": name})).fetchone() is None:
            raise HTTPException(404, f"queue {name!r} does not exist; GET /api/queues lists them")
        # The name is a known queue (checked above) and goes in as a quoted identifier, never as text.
        query = sql.SQL(q("peek_messages").decode()).format(table=sql.Identifier(f"q_{name}"))
        rows = await (await conn.execute(query, {"limit": limit})).fetchall()
    return Messages(messages=[Message.model_validate(r) for r in rows])


@router.get("/queues/{name}/messages", response_model=Messages, summary="Peek at messages without claiming them")
async def queue_messages(name: str, state: State, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Messages:
    return await peek(state, name, limit)


@router.get("/dead-letters", response_model=Messages, summary="Messages in the dead-letter queue")
async def dead_letters(state: State, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Messages:
    return await peek(state, DLQ_QUEUE, limit)


@router.post("/dead-letters/{msg_id}/replay", summary="Run a dead job again from its dead letter")
async def replay(msg_id: int, state: State) -> dict[str, int]:
    async with state.pool.connection() as conn, conn.transaction():
        job_id, result = await actions.replay_dead_letter(conn, msg_id, state.settings.default_max_attempts)
    if job_id is None or result is None:
        raise HTTPException(404, f"dead letter {msg_id} does not exist; GET /api/dead-letters lists them")
    if not result.done:
        raise HTTPException(409, f"job {job_id} is {result.status_before}, not dead; nothing to replay")
    return {"job_id": job_id}


@router.post("/dead-letters/replay-all", summary="Run every dead-lettered job again")
async def replay_all(state: State) -> dict[str, int]:
    async with state.pool.connection() as conn, conn.transaction():
        n = await actions.replay_all(conn, state.settings.default_max_attempts)
    return {"replayed": n}


@router.delete("/dead-letters", summary="Purge the dead-letter queue (needs confirm=true)")
async def purge(state: State, confirm: bool = False) -> dict[str, int]:
    if not confirm:
        raise HTTPException(409, "purging deletes every dead letter for good; repeat with ?confirm=true")
    async with state.pool.connection() as conn, conn.transaction():
        row = await (await conn.execute(q("purge_dead_letters"))).fetchone()
    return {"purged": int(row["purged"]) if row else 0}
