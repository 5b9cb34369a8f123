"""Record what workflow calls did at their steps, in the recorder's transaction.

A call reports at most one step.do it ran and at most one sleep or wait where the run stopped. The
step is stored; a run that stopped gets a new message due when it goes on (now for its next step, at a
sleep's end, at a step retry's time, at a wait's timeout) and shows where it is. Runs that returned or
threw go on to the ordinary record path with their steps already stored, so a completed step is in
Postgres before the job's outcome is, and never runs again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dymunim.db.pool import DictConn
from dymunim.domain import JobStatus
from dymunim.execute.contract import Outcome
from dymunim.store import steps as store_steps
from dymunim.workflow.reports import MAX_WAIT_MS

if TYPE_CHECKING:
    from dymunim.record.outcomes import Finished

@dataclass(frozen=True)
class Stepped:
    rest: list[Finished]  # for the ordinary record path: other jobs, and runs that returned or threw
    progressed: int  # runs that stopped at a step and were put back on the queue
    next_at: datetime | None  # the earliest time one of them goes on, so the dispatcher sweeps then


def retry_delay_ms(retries: dict[str, Any], tries: int) -> int:
    """How long after its `tries`-th failure a step runs again (Cloudflare Workflows' backoffs)."""
    d = retries["delay_ms"]
    factor = {"constant": 1, "linear": tries}.get(retries["backoff"], 2 ** min(tries - 1, 40))
    return int(min(d * factor, MAX_WAIT_MS))


def _failed(o: Outcome, message: str) -> Outcome:
    return {**o, "ok": False, "result": None, "effects": [],
            "error": {"name": "WorkflowError", "message": message, "stack": None}}


def _is_run(f: Finished) -> bool:
    return f.outcome is not None and f.outcome.get("workflow") is not None


async def record(conn: DictConn, finished: list[Finished], max_steps: int) -> Stepped:
    runs = [f for f in finished if _is_run(f)]
    if not runs:
        return Stepped(finished, 0, None)
    rest = [f for f in finished if not _is_run(f)]
    current = await store_steps.lock_current(conn, {f.attempt.job_id: f.attempt.attempt for f in runs})
    rest += [f for f in runs if f.attempt.job_id not in current]  # zombies: the ordinary path fences them out
    runs = [f for f in runs if f.attempt.job_id in current]
    if not runs:
        return Stepped(rest, 0, None)
    stored: dict[int, dict[str, dict[str, Any]]] = {}
    for r in await store_steps.of_runs(conn, [f.attempt.job_id for f in runs]):
        stored.setdefault(r["job_id"], {})[r["name"]] = r
    settle = [{"job_id": f.attempt.job_id, "name": n, "status": s} for f in runs for n, s in f.attempt.settled]
    if settle:
        await store_steps.settle(conn, settle)

    plans: list[_Plan] = []
    for f in runs:
        assert f.outcome is not None
        plan = _plan(f, stored.get(f.attempt.job_id, {}), max_steps)
        if isinstance(plan, str):
            rest.append(replace(f, outcome=_failed(f.outcome, plan)))
        else:
            plans.append(plan)

    waits = [{"job_id": p.f.attempt.job_id, "name": p.wait["name"], "event_type": p.wait["event_type"]}
             for p in plans if p.wait is not None]
    taken = {(r["job_id"], r["name"]): r for r in await store_steps.take_events(conn, waits)} if waits else {}
    rows = [row for p in plans for row in p.rows(taken)]
    saved = {(r["job_id"], r["name"]): r["until"] for r in await store_steps.save(conn, rows)} if rows else {}

    moving: list[dict[str, Any]] = []
    ended: list[int] = []
    for p in plans:
        if p.f.outcome is not None and p.f.outcome["workflow"]["suspended"]:
            moving.append(p.run(saved))
        else:
            rest.append(p.f)
            ended.append(p.f.attempt.job_id)
    if ended:
        await store_steps.count(conn, ended)
    moved = await store_steps.progress(conn, moving) if moving else []
    times = [m["run_at"] for m in moving if m["run_at"] is not None]
    return Stepped(rest, len(moved), min(times) if times else None)


@dataclass
class _Plan:
    """What one call's reports become: step rows, and where the run goes next."""

    f: Finished
    have: dict[str, dict[str, Any]]
    status: JobStatus = JobStatus.QUEUED
    stop: str | None = None  # the step whose time the run goes on at (sleep, wait, retry)
    error: dict[str, Any] | None = None
    detail: dict[str, Any] | None = None
    wait: dict[str, Any] | None = None  # the wait where the run stopped: its row depends on the inbox
    done: list[dict[str, Any]] = field(default_factory=list)  # rows of the steps that ran or stopped it
    next_seq: int = 1

    def _row(self, s: dict[str, Any], **fields: Any) -> dict[str, Any]:
        old = self.have.get(s["name"])
        if old is not None:
            seq = old["seq"]
        else:
            seq = self.next_seq
            self.next_seq += 1
        base = {"job_id": self.f.attempt.job_id, "name": s["name"], "seq": seq, "kind": s["kind"],
                "attempts": old["attempts"] if old else 0, "tries": old["tries"] if old else 0,
                "result": None, "error": None, "config": None, "until_ms": None, "delay_ms": None,
                "event_type": None, "duration_ms": None, "logs": None, "finished": False}
        return {**base, **fields}

    def rows(self, taken: dict[tuple[int, str], dict[str, Any]]) -> list[dict[str, Any]]:
        out = list(self.done)
        if self.wait is not None:
            s = self.wait
            event = taken.get((self.f.attempt.job_id, s["name"]))
            old = self.have.get(s["name"])
            if event is not None:
                got = {"type": event["type"], "payload": event["payload"], "timestamp": event["received_at"]}
                out.append(self._row(s, status="completed", result=got, event_type=s["event_type"], finished=True))
                self.status, self.stop, self.detail = JobStatus.QUEUED, None, None
            elif old is not None and old["status"] == "waiting" and old["until_ms"] is not None:
                out.append(self._row(s, status="waiting", event_type=s["event_type"], until_ms=old["until_ms"]))
            else:
                out.append(self._row(s, status="waiting", event_type=s["event_type"], delay_ms=s["timeout_ms"]))
        return out

    def run(self, saved: dict[tuple[int, str], datetime | None]) -> dict[str, Any]:
        a = self.f.attempt
        run_at = saved.get((a.job_id, self.stop)) if self.stop is not None else None
        detail = dict(self.detail or {})
        if run_at is not None and detail:
            detail["until"] = run_at.isoformat()
        return {"job_id": a.job_id, "attempt": a.attempt, "status": self.status, "run_at": run_at,
                "error": self.error, "detail": detail or None}


def _plan(f: Finished, have: dict[str, dict[str, Any]], max_steps: int) -> _Plan | str:
    """The plan for one call's reports, or why the run fails instead (WorkflowError)."""
    assert f.outcome is not None
    reported: list[dict[str, Any]] = f.outcome["workflow"]["steps"]  # type: ignore[assignment]
    for s in reported:
        old = have.get(s["name"])
        if old is not None and (old["kind"] != s["kind"] or old["status"] in ("completed", "failed", "timed_out")):
            return (f"the call reported step {s['name']!r} again, which the run already has as a {old['kind']} "
                    f"step ({old['status']}); step names must be unique per run")
    new = sum(1 for s in reported if s["name"] not in have)
    if len(have) + new > max_steps:
        return (f"the run reached more than {max_steps} steps, the most one run may record (DYMUNIM_MAX_STEPS); "
                "split the work over several runs")
    p = _Plan(f, have, next_seq=max((s["seq"] for s in have.values()), default=0) + 1)
    logs = f.outcome["logs"] or None
    failed = next((s for s in reported if s["kind"] == "do" and not s["ok"]), None)
    for s in reported:
        if s["kind"] == "do":
            old = have.get(s["name"])
            attempts = (old["attempts"] if old else 0) + 1
            config = {"retries": s["retries"], "timeout_ms": s["timeout_ms"]}
            common = {"attempts": attempts, "config": config, "duration_ms": s["duration_ms"], "logs": logs}
            if s["ok"]:
                p.done.append(p._row(s, status="completed", result=s["result"], tries=0, finished=True, **common))
                continue
            tries = (old["tries"] if old is not None and old["status"] == "retrying" else 0) + 1
            if tries <= s["retries"]["limit"]:
                delay = retry_delay_ms(s["retries"], tries)
                p.done.append(p._row(s, status="retrying", error=s["error"], tries=tries, delay_ms=delay, **common))
                p.status, p.stop, p.error = JobStatus.RETRYING, s["name"], s["error"]
                p.detail = {"step": s["name"], "try": tries, "error": s["error"]["message"][:500]}
            else:
                # Exhausted: stored as failed, and the next call throws its error into run(), which may catch it.
                p.done.append(p._row(s, status="failed", error=s["error"], tries=tries, finished=True, **common))
        elif failed is not None:
            continue  # the failed step decides; the run reaches this sleep or wait again on a later call
        elif s["kind"] == "sleep":
            old = have.get(s["name"])
            until = old["until_ms"] if old is not None and old["until_ms"] is not None else s["until_ms"]
            p.done.append(p._row(s, status="sleeping", until_ms=until, logs=logs))
            p.status, p.stop, p.detail = JobStatus.SLEEPING, s["name"], {"step": s["name"]}
        else:
            p.wait = s
            p.status, p.stop = JobStatus.WAITING, s["name"]
            p.detail = {"step": s["name"], "event_type": s["event_type"]}
    return p
