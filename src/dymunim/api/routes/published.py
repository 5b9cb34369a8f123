"""Events: publish a named event (one job per subscribed worker), the seed's dispatch contract, the
events published so far, and subscriptions (/api/events itself is the live stream of job changes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from dymunim.api import lookups
from dymunim.api.deps import State
from dymunim.api.errors import messages
from dymunim.api.params import BIGINT_MAX
from dymunim.domain import unstorable
from dymunim.store import events as store
from dymunim.store.models import PublishedEvent, Subscription
from dymunim.submit.jobs import SubmitError
from dymunim.trigger.events import EventIn, Published, publish

router = APIRouter(prefix="/api", tags=["events"])

MAX_DISPATCH = 1000
MAX_DELAY_MS = 366 * 24 * 3600 * 1000
NAME = r"^[A-Za-z0-9_.:/-]+$"


def _storable(v: Any) -> Any:
    if problem := unstorable(v):
        raise ValueError(problem)
    return v


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, pattern=NAME, examples=["order.paid"])
    data: JsonValue = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200,
                                        description="A repeat with the same key starts nothing more")
    trace_id: str | None = Field(default=None, max_length=200, description="Carried by every job it starts")
    delay_ms: int | None = Field(default=None, ge=0, le=MAX_DELAY_MS, description="Start the jobs this much later")

    @field_validator("data")
    @classmethod
    def _data(cls, v: Any) -> Any:
        return _storable(v)


class PublishOut(BaseModel):
    event_id: int
    job_ids: list[int] = Field(description="One job per subscribed worker")
    created: bool = Field(description="false: the idempotency key returned the event published first")


class EventPage(BaseModel):
    events: list[PublishedEvent]
    next_cursor: str | None


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    worker_id: str = Field(min_length=1, max_length=200)
    pattern: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:/-]+\*?$|^\*$",
                         description="An event name, or a prefix ending in `*` (`order.*`; `*` alone: every event)")


class Subscriptions(BaseModel):
    subscriptions: list[Subscription]


class Unsubscribed(BaseModel):
    subscription_id: str
    deleted: bool


def _out(p: Published) -> PublishOut:
    return PublishOut(event_id=p.event_id, job_ids=p.job_ids, created=p.created)


@router.post("/events/publish", response_model=PublishOut, status_code=201,
             responses={200: {"model": PublishOut, "description": "A repeat of an idempotency key"}},
             summary="Publish an event: one job per subscribed worker, in one transaction")
async def publish_event(body: PublishIn, state: State, request: Request, response: Response) -> PublishOut:
    async with state.pool.connection() as conn, conn.transaction():
        done = await publish(conn, state.settings, EventIn(
            name=body.name, data=body.data, idempotency_key=body.idempotency_key,
            trace_id=body.trace_id or request.state.trace_id, delay_ms=body.delay_ms))
    if not done.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return _out(done)


@router.get("/events/published", response_model=EventPage, summary="Published events, newest first, with their jobs")
async def list_published(
    state: State,
    name: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,18}$", description="next_cursor of the previous page")
    ] = None,
) -> EventPage:
    events = await store.recent(state.pool, name=name, before=int(cursor) if cursor else None, limit=limit)
    return EventPage(events=events, next_cursor=str(events[-1].event_id) if len(events) == limit else None)


@router.get("/events/published/{event_id}", response_model=PublishedEvent, summary="One published event")
async def get_published(event_id: Annotated[int, Path(ge=1, le=BIGINT_MAX)], state: State) -> PublishedEvent:
    found = await store.recent(state.pool, event_id=event_id, limit=1)
    if not found:
        raise HTTPException(404, f"event {event_id} does not exist; GET /api/events/published lists them")
    return found[0]


# The seed's dispatch contract, as producers written for it send it.


class DispatchEvent(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NAME)
    data: JsonValue = None

    @field_validator("data")
    @classmethod
    def _data(cls, v: Any) -> Any:
        return _storable(v)


class DispatchItem(BaseModel):
    # Fields of the contract this server does not use are ignored, not refused: the producer is foreign.
    model_config = ConfigDict(populate_by_name=True)
    id: str | None = Field(default=None, max_length=200, description="The producer's id for the event")
    idempotency_key: str | None = Field(default=None, alias="idempotencyKey", min_length=1, max_length=200)
    trace_id: str | None = Field(default=None, alias="traceId", max_length=200)
    delay_ms: int | None = Field(default=None, alias="delayMs", ge=0, le=MAX_DELAY_MS)
    event: DispatchEvent


class DispatchIn(BaseModel):
    events: list[Any] = Field(description=f"Up to {MAX_DISPATCH} items: {{id, idempotencyKey, traceId, delayMs, "
                              "event: {name, data}}}")


class DispatchError(BaseModel):
    index: int
    id: str | None
    error: str


class DispatchOut(BaseModel):
    ids: list[int | None] = Field(description="The event id per item, null where the item was refused")
    errors: list[DispatchError]


@router.post("/dispatch", response_model=DispatchOut, summary="Publish events in the seed's dispatch format")
async def dispatch_events(body: DispatchIn, state: State, request: Request) -> DispatchOut:
    if len(body.events) > MAX_DISPATCH:
        raise HTTPException(413, f"{len(body.events)} events in one request; the limit is {MAX_DISPATCH}")
    ids: list[int | None] = [None] * len(body.events)
    errors: list[DispatchError] = []
    items: list[tuple[int, DispatchItem]] = []
    for i, raw in enumerate(body.events):
        try:
            items.append((i, DispatchItem.model_validate(raw)))
        except ValidationError as exc:
            given = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            errors.append(DispatchError(index=i, id=given, error=messages(exc)))
    async with state.pool.connection() as conn, conn.transaction():
        for i, it in items:
            try:  # each in a savepoint of its own: one refused item changes nothing of the others
                done = await publish(conn, state.settings, EventIn(
                    name=it.event.name, data=it.event.data, idempotency_key=it.idempotency_key, external_id=it.id,
                    trace_id=it.trace_id or request.state.trace_id, delay_ms=it.delay_ms))
                ids[i] = done.event_id
            except SubmitError as exc:
                errors.append(DispatchError(index=i, id=it.id, error=str(exc)))
    errors.sort(key=lambda e: e.index)
    return DispatchOut(ids=ids, errors=errors)


@router.get("/subscriptions", response_model=Subscriptions, summary="Which workers which events start")
async def list_subscriptions(state: State, worker_id: str | None = None) -> Subscriptions:
    return Subscriptions(subscriptions=await store.subscriptions(state.pool, worker_id=worker_id))


@router.post("/subscriptions", response_model=Subscription, status_code=201,
             summary="Run a worker for every event matching a pattern")
async def create_subscription(body: SubscriptionIn, state: State) -> Subscription:
    await lookups.worker(state, body.worker_id)
    return await store.subscribe(state.pool, body.worker_id, body.pattern)


@router.delete("/subscriptions/{subscription_id}", response_model=Unsubscribed, summary="Remove a subscription")
async def delete_subscription(subscription_id: str, state: State) -> Unsubscribed:
    if not await store.unsubscribe(state.pool, subscription_id):
        raise HTTPException(404, f"subscription {subscription_id} does not exist; GET /api/subscriptions lists them")
    return Unsubscribed(subscription_id=subscription_id, deleted=True)
