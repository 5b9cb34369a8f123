"""Record: write each attempt's outcome, its event and its queue operation in one transaction.

A batch of outcomes is one transaction (group commit), so Postgres commits are paid per batch,
not per job. Every statement is fenced on the attempt number: a zombie that lost its message
cannot overwrite a newer attempt's row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dymunim.db.pool import DictConn, DictPool
from dymunim.domain import JobStatus
from dymunim.execute.contract import JobError, Outcome
from dymunim.jsonbytes import dumps
from dymunim.record.policy import RetryPolicy, decide
from dymunim.settings import Settings
from dymunim.store import outcomes as store_outcomes
from dymunim.trigger import children
from dymunim.workflow import progress


@dataclass(frozen=True)
class Attempt:
    """A claimed job: what the dispatcher knows while the attempt runs."""

    job_id: int
    attempt: int
    msg_id: int
    max_attempts: int
    retry_on_error: bool
    final: bool = False  # no attempts left whatever the policy says (poison messages)
    trace_id: str | None = None  # the chain's correlation id, which its children carry
    # A workflow call: the sleeps that ended and waits that timed out, as its replay was told.
    settled: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Finished:
    attempt: Attempt
    outcome: Outcome | None  # None: the executor never ran it, or never said how it ended
    infra_error: str | None = None
    infra_name: str = "ExecutorUnavailable"


def _error_of(f: Finished) -> JobError | None:
    if f.outcome is None:
        return {"name": f.infra_name, "message": f.infra_error or "executor unavailable", "stack": None}
    return f.outcome["error"]


@dataclass(frozen=True)
class Recorded:
    counts: dict[str, int]
    next_retry_at: datetime | None  # the earliest retry scheduled, so the dispatcher can wake for it


def _asks(f: Finished) -> bool:
    """The job succeeded and asked to start jobs or events."""
    return f.outcome is not None and f.outcome["ok"] and bool(f.outcome.get("effects"))


async def _plan_children(conn: DictConn, settings: Settings,
                         finished: list[Finished]) -> tuple[list[Finished], dict[int, children.Children]]:
    """Check what each successful job asked to start; a job whose children cannot start fails instead."""
    plans: dict[int, children.Children] = {}
    out: list[Finished] = []
    for f in finished:
        if _asks(f):
            assert f.outcome is not None
            try:
                plans[f.attempt.job_id] = await children.plan(
                    conn, settings, f.attempt.job_id, f.attempt.trace_id, f.outcome.get("effects") or [])
            except children.ChainError as exc:
                f = replace(f, outcome={**f.outcome, "ok": False, "result": None, "effects": [],
                                        "error": {"name": "ChainError", "message": str(exc), "stack": None}})
        out.append(f)
    return out, plans


async def record(pool: DictPool, finished: list[Finished], policy: RetryPolicy,
                 settings: Settings | None = None) -> Recorded:
    """Record a group of outcomes in one transaction, with the jobs and events successful ones asked to
    start (created only for attempts that are still current, in the same transaction)."""
    async with pool.connection() as conn, conn.transaction():
        stepped: progress.Stepped | None = None
        if any(f.outcome is not None and f.outcome.get("workflow") for f in finished):
            settings = settings or Settings()
            stepped = await progress.record(conn, finished, settings.max_steps)
            finished = stepped.rest
        plans: dict[int, children.Children] = {}
        if any(_asks(f) for f in finished):
            settings = settings or Settings()
            finished, plans = await _plan_children(conn, settings, finished)
        done = await _record(conn, finished, policy, plans, settings)
        if stepped is None:
            return done
        times = [t for t in (done.next_retry_at, stepped.next_at) if t is not None]
        return Recorded({**done.counts, "progressed": stepped.progressed}, min(times) if times else None)


async def _record(conn: DictConn, finished: list[Finished], policy: RetryPolicy,
                  plans: dict[int, children.Children], settings: Settings | None) -> Recorded:
    final: list[tuple[Finished, str]] = []
    retry: list[Finished] = []
    dead: list[Finished] = []
    for f in finished:
        a = f.attempt
        d = decide(
            ok=bool(f.outcome and f.outcome["ok"]),
            infrastructure=f.outcome is None,
            attempt=a.attempt,
            max_attempts=a.max_attempts,
            retry_on_error=a.retry_on_error,
            # A poison message is final: it already failed to finish too many times.
            infra_attempts=0 if a.final else policy.infra_attempts,
        )
        if d == JobStatus.RETRYING:
            retry.append(f)
        elif d == JobStatus.DEAD:
            dead.append(f)
        else:
            final.append((f, d))

    counts = {"final": 0, "retrying": 0, "dead": 0}
    run_ats = [policy.next_run(f.attempt.attempt) for f in retry]
    if final:
        recorded = await store_outcomes.finish(conn, _final_doc(final))
        counts["final"] = len(recorded)
        for job_id in recorded:
            if job_id in plans and settings is not None:
                await children.start(conn, settings, plans[job_id])
    if retry:
        doc = [
            {"job_id": f.attempt.job_id, "attempt": f.attempt.attempt, "error": _error_of(f),
             "logs": f.outcome["logs"] if f.outcome else [], "run_at": run_at,
             "duration_ms": f.outcome["duration_ms"] if f.outcome else None}
            for f, run_at in zip(retry, run_ats, strict=True)
        ]
        counts["retrying"] = await store_outcomes.retry_later(conn, _json(doc))
    if dead:
        doc = [
            {"job_id": f.attempt.job_id, "attempt": f.attempt.attempt, "error": _error_of(f),
             "logs": f.outcome["logs"] if f.outcome else None,
             "duration_ms": f.outcome["duration_ms"] if f.outcome else None}
            for f in dead
        ]
        counts["dead"] = await store_outcomes.bury(conn, _json(doc))
    return Recorded(counts, min(run_ats) if run_ats else None)


def _json(doc: Any) -> str:
    # Results may hold integers beyond 64 bits (JSON allows them): jsonbytes falls back for those.
    return dumps(doc, default=str).decode()


def _final_doc(final: list[tuple[Finished, str]]) -> str:
    # The checked Outcome as it is, with the job, attempt and status it ends with (no copy per field).
    doc: list[dict[str, Any]] = [
        {**f.outcome, "job_id": f.attempt.job_id, "attempt": f.attempt.attempt, "status": status}
        if f.outcome is not None else
        {"job_id": f.attempt.job_id, "attempt": f.attempt.attempt, "status": status, "ok": False,
         "error": _error_of(f), "logs": []}
        for f, status in final
    ]
    return _json(doc)
