"""Health: the open `/health` says up or down per check; `/api/health` (token) adds each check's detail.

The open one is for load balancers and uptime probes, which carry no token: it shows no pids, ports,
hostnames or memory figures. Each check is a named entry `{ok, error?, ...detail}`; a new check is one
more function in CHECKS, and new detail is one more key in its `detail`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from dymunim.api.deps import AppState, State
from dymunim.domain import DISPATCHER_REPORT_S
from dymunim.store import dispatchers as store_dispatchers
from dymunim.upstate import postgres_check

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])
detail_router = APIRouter(tags=["health"])


@dataclass
class Check:
    ok: bool
    error: str | None = None  # short and safe to show without a token: what is wrong, not where
    detail: dict[str, Any] = field(default_factory=dict)  # pids, hosts, ports, memory: token only

    def public(self) -> dict[str, Any]:
        return {"ok": self.ok} | ({"error": self.error} if self.error else {})

    def full(self) -> dict[str, Any]:
        return self.public() | self.detail


class CheckOut(BaseModel):
    """One check: up or down, why it is down, and (with a token) its detail as more members."""

    model_config = ConfigDict(extra="allow")
    ok: bool
    error: str | None = Field(default=None, description="What is wrong (only when down)")


class Health(BaseModel):
    ok: bool = Field(description="Every check is up")
    checks: dict[str, CheckOut] = Field(description="database, dispatchers, executor, postgres (when embedded)")


async def _database(state: AppState) -> Check:
    try:
        await store_dispatchers.ping(state.pool)
        return Check(True)
    except Exception as exc:  # any failure here is the answer, not an error
        return Check(False, f"database unreachable: {type(exc).__name__}")


async def _dispatchers(state: AppState) -> Check:
    within = 3 * DISPATCHER_REPORT_S
    try:
        rows = await store_dispatchers.alive(state.pool, within)
    except Exception as exc:  # the database check says why
        return Check(False, f"unknown: {type(exc).__name__}")
    alive = [{"id": r.dispatcher_id, "pid": r.pid, "hostname": r.hostname, "in_flight": r.in_flight,
              "overdue": r.overdue, "last_seen": r.last_seen.isoformat()} for r in rows]
    if not rows:
        return Check(False, f"no dispatcher has reported in the last {within:g} s: jobs will wait",
                     {"alive": alive})
    # A dispatcher resolves an attempt at its deadline itself; one still holding some is stuck
    # (its database writes failing, its event loop blocked): its jobs wait until it is restarted.
    stuck = [r for r in rows if r.overdue]
    if stuck:
        n = sum(r.overdue for r in stuck)
        return Check(False, f"{len(stuck)} dispatcher(s) hold {n} attempt(s) past their deadline", {"alive": alive})
    return Check(True, None, {"alive": alive})


async def _executor(state: AppState) -> Check:
    ex = await state.executor.health()
    ok = bool(ex.get("ok"))
    detail = {k: v for k, v in ex.items() if k not in ("ok", "error")}
    reason = ex.get("error")
    if ok:
        return Check(True, None, detail)
    if reason:
        # "executor unreachable: ConnectError('…host:port…')": the open answer keeps the kind, not the address.
        return Check(False, str(reason).split("(", 1)[0].strip(), detail | {"reason": reason})
    return Check(False, f"executor is not ready (HTTP {ex.get('status_code', '?')})", detail)


async def _postgres(state: AppState) -> Check | None:
    pg = postgres_check(state.settings.up_state_file)  # the embedded Postgres as `up` supervises it
    if pg is None:
        return None
    return Check(bool(pg["ok"]), pg.get("error"), {k: v for k, v in pg.items() if k not in ("ok", "error")})


CHECKS: dict[str, Callable[[AppState], Awaitable[Check | None]]] = {
    "database": _database,
    "dispatchers": _dispatchers,
    "executor": _executor,
    "postgres": _postgres,
}


async def run_checks(state: AppState) -> dict[str, Check]:
    async def one(name: str, check: Callable[[AppState], Awaitable[Check | None]]) -> Check | None:
        try:
            return await check(state)
        except Exception as exc:  # a broken check reports itself down; the report still answers
            log.exception("health check %s failed", name)
            return Check(False, f"the {name} check failed: {type(exc).__name__}")

    results = await asyncio.gather(*(one(n, c) for n, c in CHECKS.items()))
    return {name: r for name, r in zip(CHECKS, results, strict=True) if r is not None}


def _report(checks: dict[str, Check], full: bool) -> Health:
    return Health(ok=all(c.ok for c in checks.values()),
                  checks={n: CheckOut.model_validate(c.full() if full else c.public()) for n, c in checks.items()})


@router.get("/health", response_model=Health, response_model_exclude_unset=True,
            responses={503: {"model": Health, "description": "A check is down"}},
            summary="Up or down per check (no token; 503 when any is down; detail at /api/health)")
async def health(state: State, response: Response) -> Health:
    report = _report(await run_checks(state), full=False)
    response.status_code = 200 if report.ok else 503
    return report


@detail_router.get("/api/health", response_model=Health, response_model_exclude_unset=True,
                   summary="Every check with its detail: dispatchers, executor processes")
async def health_detail(state: State) -> Health:
    # Always 200: this is a report read by people and the UI, which must show which check is down,
    # not a probe; `ok` says whether all is well.
    return _report(await run_checks(state), full=True)
