"""Schedules: work on a clock (cron, 5 fields or 6 with seconds, in a time zone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from dymunim.api.deps import State
from dymunim.domain import Language, unstorable
from dymunim.store import schedules as store
from dymunim.store.models import Schedule
from dymunim.trigger import cron
from dymunim.trigger import schedules as service

router = APIRouter(prefix="/api/schedules", tags=["schedules"])

UPCOMING = 5
RECENT_FIRES = 20
_EPSILON = timedelta(microseconds=1)  # next_fire_at itself is the first upcoming tick


def _cron(v: str) -> str:
    try:
        cron.check(v, "UTC")
    except cron.CronError as exc:
        raise ValueError(str(exc)) from None
    return v.strip()


def _zone(v: str) -> str:
    try:
        cron.zone(v)
    except cron.CronError as exc:
        raise ValueError(str(exc)) from None
    return v


def _payload(v: Any) -> Any:
    if problem := unstorable(v):
        raise ValueError(problem)
    return v


class _ScheduleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("cron", check_fields=False)
    @classmethod
    def _valid_cron(cls, v: str | None) -> str | None:
        return None if v is None else _cron(v)

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _valid_zone(cls, v: str | None) -> str | None:
        return None if v is None else _zone(v)

    @field_validator("payload", check_fields=False)
    @classmethod
    def _storable(cls, v: Any) -> Any:
        return _payload(v)

    @field_validator("name", "code", check_fields=False)
    @classmethod
    def _no_nul(cls, v: str | None) -> str | None:
        if v is not None and "\x00" in v:
            raise ValueError("contains a NUL character (\\u0000), which cannot be stored; remove it")
        return v


class ScheduleIn(_ScheduleFields):
    name: str = Field(min_length=1, max_length=200)
    cron: str = Field(min_length=1, max_length=200, description="5 fields (minute hour day month weekday), 6 "
                      "with seconds first, or an alias such as @hourly", examples=["*/10 * * * * *", "0 9 * * mon-fri"])
    timezone: str = Field(default="UTC", max_length=64, description="IANA zone the cron expression is read in")
    worker_id: str | None = Field(default=None, max_length=200, description="A saved worker to run (or code)")
    code: str | None = Field(default=None, min_length=1, description="Code of the schedule's own (or worker_id)")
    language: Language = "javascript"
    cache_id: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    payload: JsonValue = None
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    timeout_ms: int | None = Field(default=None, ge=1)
    retry_on_error: bool = False
    misfire: Literal["skip", "catch_up"] = Field(
        default="skip", description="Ticks missed while no dispatcher ran: skip them, or catch up the newest "
        "catch_up_limit")
    catch_up_limit: int = Field(default=10, ge=1, le=1000)
    paused: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> ScheduleIn:
        if (self.worker_id is None) == (self.code is None):
            raise ValueError("give worker_id (a saved worker) or code (the schedule's own), one of the two")
        return self


class SchedulePatch(_ScheduleFields):
    """The fields to change; the others keep their values. worker_id replaces code and the other way round."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    cron: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    worker_id: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, min_length=1)
    language: Language | None = None
    cache_id: str | None = Field(default=None, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$")
    payload: JsonValue = None
    max_attempts: int | None = Field(default=None, ge=1, le=100)
    timeout_ms: int | None = Field(default=None, ge=1)
    retry_on_error: bool | None = None
    misfire: Literal["skip", "catch_up"] | None = None
    catch_up_limit: int | None = Field(default=None, ge=1, le=1000)

    @model_validator(mode="after")
    def _not_both(self) -> SchedulePatch:
        if self.worker_id is not None and self.code is not None:
            raise ValueError("give worker_id or code, not both")
        for name in ("name", "cron", "timezone", "language", "retry_on_error", "misfire", "catch_up_limit"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep its value")
        return self


class Schedules(BaseModel):
    schedules: list[Schedule]


class Preview(BaseModel):
    cron: str
    timezone: str
    times: list[datetime] = Field(description="The next fire times, in the zone")


def _with_upcoming(s: Schedule, n: int = UPCOMING) -> Schedule:
    times = [] if s.paused else cron.next_times(s.cron, s.timezone, max(s.next_fire_at, datetime.now(UTC))
                                                 - _EPSILON, n)
    return s.model_copy(update={"upcoming": times})


async def _found(state: State, schedule_id: str) -> Schedule:
    s = await store.get(state.pool, schedule_id)
    if s is None:
        raise HTTPException(404, f"schedule {schedule_id} does not exist; GET /api/schedules lists them")
    return s


async def _detail(state: State, schedule_id: str) -> Schedule:
    s = await _found(state, schedule_id)
    return _with_upcoming(s).model_copy(update={"recent_fires": await store.fires(state.pool, schedule_id,
                                                                                  RECENT_FIRES)})


@router.post("", response_model=Schedule, status_code=201, summary="Create a schedule")
async def create_schedule(body: ScheduleIn, state: State) -> Schedule:
    schedule_id = await service.create(state.pool, state.settings, service.ScheduleFields(
        **body.model_dump(exclude={"language"}), language=body.language))
    return await _detail(state, schedule_id)


@router.get("", response_model=Schedules, summary="Schedules by name, each with its next fire times")
async def list_schedules(state: State, worker_id: str | None = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Schedules:
    return Schedules(schedules=[_with_upcoming(s) for s in await store.listed(state.pool, worker_id=worker_id,
                                                                              limit=limit)])


@router.get("/preview", response_model=Preview, summary="The next fire times of a cron expression in a zone")
async def preview_schedule(
    cron_expr: Annotated[str, Query(alias="cron", min_length=1, max_length=200)],
    timezone: Annotated[str, Query(max_length=64)] = "UTC",
    n: Annotated[int, Query(ge=1, le=50)] = UPCOMING,
) -> Preview:
    try:
        times = cron.next_times(cron_expr, timezone, datetime.now(UTC), n)
    except cron.CronError as exc:
        raise HTTPException(422, str(exc)) from None
    return Preview(cron=cron_expr, timezone=timezone, times=times)


@router.get("/{schedule_id}", response_model=Schedule, summary="A schedule with its upcoming and recent fires")
async def get_schedule(schedule_id: str, state: State) -> Schedule:
    return await _detail(state, schedule_id)


@router.patch("/{schedule_id}", response_model=Schedule, summary="Change some of a schedule's fields")
async def update_schedule(schedule_id: str, body: SchedulePatch, state: State) -> Schedule:
    patch = body.model_dump(exclude_unset=True)
    if not await service.change(state.pool, state.settings, schedule_id, patch):
        await _found(state, schedule_id)
    return await _detail(state, schedule_id)


@router.post("/{schedule_id}/pause", response_model=Schedule, summary="Stop firing (at once) until resumed")
async def pause_schedule(schedule_id: str, state: State) -> Schedule:
    if not await service.change(state.pool, state.settings, schedule_id, {"paused": True}):
        await _found(state, schedule_id)
    return await _detail(state, schedule_id)


@router.post("/{schedule_id}/resume", response_model=Schedule,
             summary="Fire again from the next tick (ticks passed while paused are not fired)")
async def resume_schedule(schedule_id: str, state: State) -> Schedule:
    if not await service.change(state.pool, state.settings, schedule_id, {"paused": False}):
        await _found(state, schedule_id)
    return await _detail(state, schedule_id)


class Deleted(BaseModel):
    schedule_id: str
    deleted: bool


@router.delete("/{schedule_id}", response_model=Deleted, summary="Delete a schedule (its jobs stay)")
async def delete_schedule(schedule_id: str, state: State) -> Deleted:
    if not await store.delete(state.pool, schedule_id):
        await _found(state, schedule_id)
    return Deleted(schedule_id=schedule_id, deleted=True)
