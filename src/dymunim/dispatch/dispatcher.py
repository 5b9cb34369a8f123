"""Dispatch: claim messages, run their jobs on the executor, record the outcomes.

Claim = a pgmq read (visibility timeout) + `running` + attempt bump, one statement. While an
attempt runs, a heartbeat keeps its message hidden; if this process dies, the message comes back
after the visibility timeout and the next claim records the lost attempt.

A claim reads forward from a cursor, the highest msg_id this dispatcher has claimed, so it never
walks the dead row versions that claimed and finished messages leave behind it (a pinned xmin
horizon keeps vacuum from removing them). Once per poll interval, and when a retry falls due, a
sweep claims in due order what the cursor passed (retries, delayed jobs, lost attempts), reading what
fell due since shortly before the last sweep (from the start once a minute). A message committed
below the cursor steps the cursor back (see dispatch/wakeup.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from dymunim.db.pool import DictPool
from dymunim.dispatch.scheduler import run_scheduler
from dymunim.dispatch.wakeup import listen_for_inserts
from dymunim.domain import DISPATCHER_REPORT_S
from dymunim.execute.client import Executor
from dymunim.execute.contract import ExecJob, ExecutorUnavailable, Outcome
from dymunim.execute.contract_types import StoredStep
from dymunim.record.checks import checked
from dymunim.record.outcomes import Attempt, Finished, Recorded, record
from dymunim.record.policy import RetryPolicy
from dymunim.settings import Settings
from dymunim.store import claims, dispatchers
from dymunim.store import steps as store_steps
from dymunim.store.models import Claimed
from dymunim.workflow import replay

log = logging.getLogger(__name__)

ATTEMPT_RUNS = 3  # a local executor may run a job this often before answering (see execute/blame.py)
RUN_GRACE_S = 3.0  # per run: the executor's own grace past the timeout, and the kill
RECORD_RETRY_DELAYS_S = (0.0, 0.2, 0.5, 1.0) + (2.0,) * 30
# A sweep reads the vt index from shortly before the last complete sweep (what became due since, late
# commits included), and from its start once a minute: under a pinned horizon the whole index is mostly
# dead versions, and reading all of it each second cost the claim p99 1.8x.
SWEEP_OVERLAP = timedelta(seconds=5)
FULL_SWEEP_S = 60.0


class Dispatcher:
    def __init__(self, settings: Settings, dsn: str, pool: DictPool, executor: Executor) -> None:
        self.s = settings
        self.dsn = dsn
        self.pool = pool
        self.executor = executor
        self.policy = RetryPolicy(settings.retry_base_s, settings.retry_cap_s, settings.infra_max_attempts)
        self.wake = asyncio.Event()
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.in_flight: dict[int, Attempt] = {}  # msg_id -> attempt, until its outcome is recorded
        # The attempts still waiting for their outcome: what max_in_flight bounds. An attempt whose
        # outcome arrived holds no slot while it is written (its message stays hidden until then), so a
        # slow Postgres delays records, not the next jobs; at most max_in_flight more wait to be written.
        self._executing: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._reserved = 0  # slots promised to claims in progress
        self._deadlines: dict[int, tuple[float, float]] = {}  # msg_id -> (monotonic overdue time, budget s)
        self._after = 0  # the claim cursor: the highest msg_id claimed in msg_id order
        self._rewind_to: int | None = None  # a message was committed at or below this: step back here
        self._sweep_asked = True  # the first claim sweeps: nothing is known about the queue yet
        self._next_sweep = 0.0  # monotonic time of the next sweep
        self._next_full_sweep = 0.0  # monotonic time of the next sweep from the start of the vt index
        self._due_from: datetime | None = None  # where the next sweep may start reading (database time)

    async def run(self, stop: asyncio.Event) -> None:
        listener = asyncio.create_task(listen_for_inserts(self.dsn, self._inserted, stop), name="listen")
        heartbeat = asyncio.create_task(self._heartbeat(stop), name="heartbeat")
        overdue = asyncio.create_task(self._overdue_watch(stop), name="overdue")
        clock = asyncio.create_task(run_scheduler(self.s, self.pool, stop), name="scheduler")
        # Two claim loops: while one waits on Postgres for a claim, the other can claim the next batch.
        # pgmq.read skips locked rows, so they never take the same message.
        loops = [asyncio.create_task(self._loop(stop), name=f"claim-{i}") for i in range(self.s.claim_loops)]
        try:
            await asyncio.gather(*loops)
        finally:
            for t in loops:
                t.cancel()
            await self._drain()
            for t in (listener, heartbeat, overdue, clock):
                t.cancel()
            await asyncio.gather(listener, heartbeat, overdue, clock, return_exceptions=True)

    async def _loop(self, stop: asyncio.Event) -> None:
        failed = False  # the last claim failed on the database
        while not stop.is_set():
            # Clear before reading: a NOTIFY that lands during the read then still wakes the wait below.
            self.wake.clear()
            qty = min(self.s.read_batch, self.s.max_in_flight - len(self._executing) - self._reserved,
                      2 * self.s.max_in_flight - len(self.in_flight) - self._reserved)
            claimed: list[Claimed] = []
            if qty > 0:
                self._reserved += qty  # so the other claim loop does not overshoot max_in_flight
                try:
                    claimed = await self._claim(qty, sweep=self._sweep_due())
                except (psycopg.OperationalError, OSError) as exc:
                    # Once at once: a terminated backend costs one pooled connection, not the database
                    # (a 0.5 s pause per pg_terminate_backend was most of the claim p99 under a storm).
                    log.warning("claim failed (%s); %s", exc, "retrying" if not failed else "retrying in 0.5 s")
                    if failed:
                        await self._sleep(stop, 0.5)
                    failed = True
                    self._sweep_asked = True  # the failed claim may have been the sweep
                    continue
                finally:
                    self._reserved -= qty
                failed = False
            if claimed:
                self._start(claimed)
                continue
            await self._sleep(stop, self.s.poll_interval_s, wake=True)

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wake: bool = False) -> None:
        waits = [asyncio.ensure_future(stop.wait())]
        if wake:
            waits.append(asyncio.ensure_future(self.wake.wait()))
        _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for p in pending:
            p.cancel()

    def _inserted(self, first_msg_id: int | None) -> None:
        """Messages were committed, the smallest of them first_msg_id (None: unknown, e.g. after the
        listener reconnected, so sweep)."""
        if first_msg_id is None:  # what went unheard may be anywhere: sweep from the start
            self._sweep_asked = True
            self._next_full_sweep = 0.0
        elif self._rewind_to is None or first_msg_id - 1 < self._rewind_to:
            self._rewind_to = first_msg_id - 1
        self.wake.set()

    def _sweep_due(self) -> bool:
        now = time.monotonic()
        if not self._sweep_asked and now < self._next_sweep:
            return False
        self._sweep_asked = False
        self._next_sweep = now + self.s.poll_interval_s
        return True

    def _sweep_soon(self) -> None:
        self._sweep_asked = True
        self.wake.set()

    async def _claim(self, qty: int, *, sweep: bool) -> list[Claimed]:
        after: int | None = None
        due_from: datetime | None = None
        if not sweep:
            if self._rewind_to is not None:
                self._after = min(self._after, self._rewind_to)
                self._rewind_to = None
            after = self._after
        elif time.monotonic() >= self._next_full_sweep:
            self._next_full_sweep = time.monotonic() + FULL_SWEEP_S
        else:
            due_from = self._due_from
        # No transaction block: its BEGIN would be a round trip of its own; the claim sends it with its
        # statements (an error rolls back as the connection goes back to the pool).
        async with self.pool.connection() as conn:
            took = await claims.claim(conn, vt_s=self.s.visibility_timeout_s, qty=qty,
                                      max_deliveries=self.s.max_deliveries, after=after, due_from=due_from)
            if took.stale:
                # Cancelled, finished or deleted jobs: their message has nothing left to do.
                await claims.drop(conn, took.stale)
            await conn.commit()
        if took.cursor is not None:
            self._after = max(self._after, took.cursor)
        if took.swept_to is not None:
            self._due_from = took.swept_to - SWEEP_OVERLAP
        if took.poison:
            await self._bury_poison(took.poison)
        return took.ready

    async def _bury_poison(self, rows: list[Claimed]) -> None:
        """A message delivered too often without finishing: its attempt is recorded dead, never run."""
        why = f"message delivered more than {self.s.max_deliveries} times without a result (poison message)"
        # max_attempts = this attempt and final: the policy sees none left, so the job goes dead + DLQ.
        await record(self.pool, [Finished(replace(_attempt(r), max_attempts=r.attempts, final=True), None, why)
                                 for r in rows], self.policy, self.s)

    def _start_attempt(self, r: Claimed) -> None:
        self.in_flight[r.msg_id] = _attempt(r)
        self._executing.add(r.msg_id)
        budget = self._budget_s(r.timeout_ms)
        self._deadlines[r.msg_id] = (time.monotonic() + budget, budget)

    def _start(self, rows: list[Claimed]) -> None:
        for r in rows:
            self._start_attempt(r)
        # Executor calls of at most exec_batch jobs, each recorded as soon as it answers: a slow job
        # holds back only the jobs that share its call, not the whole claim.
        size = self.s.exec_batch
        for chunk in (rows[i : i + size] for i in range(0, len(rows), size)):
            task = asyncio.create_task(self._execute(chunk))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _execute(self, rows: list[Claimed]) -> None:
        """Run one executor call and record its outcomes in small groups as they stream in.

        Whatever goes wrong here, every attempt of the call ends recorded (or, if even that fails,
        released to come back after its visibility timeout): nothing stays `running` for good.
        """
        replays = await self._replays(rows)
        if not rows:
            return
        jobs = [self._exec_job(r, replays.get(r.job_id)) for r in rows]
        attempts = [self.in_flight[r.msg_id] for r in rows]
        arrived: list[Finished] = []
        more = asyncio.Event()

        def on_outcome(i: int, raw: Any, lenient: bool) -> None:
            arrived.append(Finished(attempts[i], checked(raw, jobs[i], lenient_text=lenient)))
            self._answered(attempts[i].msg_id)
            more.set()

        call = asyncio.ensure_future(self.executor.run_batch(jobs, on_outcome))
        try:
            while arrived or not call.done():
                if not arrived:
                    more.clear()
                    waiter = asyncio.ensure_future(more.wait())
                    await asyncio.wait([call, waiter], return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                    continue
                # Everything that arrived while the last group was being written: one transaction.
                group = arrived[:]
                arrived.clear()
                await self._record(group)
            try:
                end = call.result()
                missing, why = end.missing, end.error
            except ExecutorUnavailable as exc:
                missing, why = list(range(len(rows))), str(exc)
            except Exception as exc:  # a bug or a broken answer must not leave its jobs running
                log.exception("executor call failed for %d jobs (%s)", len(rows), _who(rows))
                missing, why = list(range(len(rows))), f"ExecutorProtocolError: {exc!r}"
            if missing:
                for i in missing:
                    self._answered(attempts[i].msg_id)
                log.warning("no outcome for %d jobs (%s): %s", len(missing), _who([rows[i] for i in missing]), why)
                await self._record([Finished(attempts[i], None, why) for i in missing])
        finally:
            if not call.done():
                call.cancel()
            for a in attempts:  # released even if recording failed: the message comes back by itself
                self._release(a.msg_id)

    async def _record(self, finished: list[Finished]) -> None:
        """Record with retries while the database is unreachable; never raises."""
        finished = [f for f in finished if f.attempt.msg_id in self.in_flight]  # not resolved already
        if not finished:
            return
        try:
            # At once first (maybe only a connection died), then at most 2 s apart for about a minute: the
            # slots these attempts hold come free within 2 s of the database coming back.
            for delay in RECORD_RETRY_DELAYS_S:
                try:
                    done = await record(self.pool, finished, self.policy, self.s)
                    self._wake_for(done)
                    break
                except (psycopg.OperationalError, OSError) as exc:
                    # The database went away: keep the outcome and try again. If we die first, the
                    # message comes back after its visibility timeout and the job runs again.
                    log.warning("recording %d outcomes failed (%s); retrying in %ss", len(finished), exc, delay)
                    await asyncio.sleep(delay)
                except Exception as exc:  # the database refused what an outcome holds
                    log.warning("recording %d outcomes together failed (%r); recording them one by one",
                                len(finished), exc)
                    await self._record_apart(finished)
                    break
        finally:
            for f in finished:
                self._release(f.attempt.msg_id)
            self.wake.set()  # room for more: read again without waiting for the poll

    async def _record_apart(self, finished: list[Finished]) -> None:
        """One transaction per outcome, so one the database refuses fails only its own job."""
        for f in finished:
            try:
                self._wake_for(await record(self.pool, [f], self.policy, self.s))
                continue
            except Exception as exc:
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            log.warning("job %d: its outcome could not be stored (%s)", f.attempt.job_id, reason)
            o = f.outcome
            bare: Outcome = {
                "ok": False, "result": None, "logs": [], "logs_truncated": False,
                "error": {"name": "InvalidResult", "stack": None,
                          "message": f"the job's outcome could not be stored ({reason}); its result and logs "
                                     "were dropped"},
                "duration_ms": o["duration_ms"] if o else 0.0, "cold": o["cold"] if o else False,
            }
            try:
                self._wake_for(await record(self.pool, [replace(f, outcome=bare)], self.policy, self.s))
            except Exception:
                log.exception("job %d: not even its failure could be stored; its message comes back after the "
                              "visibility timeout", f.attempt.job_id)

    def _answered(self, msg_id: int) -> None:
        """The attempt's outcome is known (or known to be missing): its slot is free for the next job."""
        if msg_id in self._executing:
            self._executing.discard(msg_id)
            self._deadlines.pop(msg_id, None)
            self.wake.set()

    def _release(self, msg_id: int) -> None:
        self.in_flight.pop(msg_id, None)
        self._executing.discard(msg_id)
        self._deadlines.pop(msg_id, None)

    def _wake_for(self, done: Recorded) -> None:
        if done.next_retry_at:
            # set_vt sends no NOTIFY, and the retried message sits behind the cursor: sweep when the
            # earliest retry is due.
            delay = (done.next_retry_at - datetime.now(UTC)).total_seconds()
            asyncio.get_running_loop().call_later(max(0.0, delay) + 0.01, self._sweep_soon)

    def _budget_s(self, timeout_ms: int) -> float:
        """How long an attempt may go without an outcome before this dispatcher resolves it itself.

        A local executor may run a job up to ATTEMPT_RUNS times (two strikes, then quarantine)
        before it answers, each run bounded by the job's timeout and a kill.
        """
        return ATTEMPT_RUNS * (timeout_ms / 1000 + RUN_GRACE_S) + self.s.overdue_margin_s

    async def _overdue_watch(self, stop: asyncio.Event) -> None:
        """`running` never outlives its deadline: an attempt past it is recorded as lost, to run again."""
        while not stop.is_set():
            await self._sleep(stop, 1.0)
            now = time.monotonic()
            late = [(m, budget) for m, (at, budget) in self._deadlines.items() if at < now and m in self._executing]
            if not late:
                continue
            log.warning("%d attempts passed their deadline without an outcome; recording them as lost", len(late))
            for m, _ in late:
                self._answered(m)
            await self._record([
                Finished(self.in_flight[m], None,
                         f"no outcome from the executor within {budget:.0f} s "
                         "(the job's timeout, re-runs and a margin); the attempt is treated as lost",
                         infra_name="AttemptOverdue")
                for m, budget in late
            ])

    async def _replays(self, rows: list[Claimed]) -> dict[int, list[StoredStep]]:
        """The stored steps of the workflow runs among rows (one query for the call); the sleeps and waits
        that settled are noted on their attempts, for the recorder."""
        runs = [r for r in rows if r.steps is not None]
        if not runs:
            return {}
        by_job: dict[int, list[dict[str, Any]]] = {r.job_id: [] for r in runs}
        try:
            async with self.pool.connection() as conn:
                for row in await store_steps.of_runs(conn, list(by_job)):
                    by_job[row["job_id"]].append(row)
        except (psycopg.Error, OSError) as exc:
            # Without its steps a replay would run completed steps again: the call waits for its message
            # to come back instead (the attempt is lost, not failed).
            log.warning("reading the steps of %d workflow runs failed (%s); they run again later", len(runs), exc)
            for r in runs:
                self._answered(r.msg_id)
                self._release(r.msg_id)
            rows[:] = [r for r in rows if r.steps is None]
            return {}
        out: dict[int, list[StoredStep]] = {}
        for r in runs:
            out[r.job_id], settled = replay.state(by_job[r.job_id])
            if settled:
                self.in_flight[r.msg_id] = replace(self.in_flight[r.msg_id], settled=settled)
        return out

    def _exec_job(self, r: Claimed, steps: list[StoredStep] | None = None) -> ExecJob:
        job: ExecJob = {
            "code": r.code,
            "payload": r.payload,
            "cache_id": r.cache_id,
            "timeout_ms": r.timeout_ms,
            "trace_id": r.trace_id,
            "job_id": r.job_id,
            "attempt": r.attempts,
            "max_log_lines": self.s.max_log_lines,
            "max_log_bytes": self.s.max_log_bytes,
            "max_result_bytes": self.s.max_result_bytes,
            "max_children": self.s.max_children,
            "created_at": r.created_at.isoformat(),
        }
        if steps is not None:
            job["workflow"] = {"steps": steps}
        return job

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """Keep in-flight messages hidden while their jobs run, and tell /health we are alive."""
        period = max(1.0, min(DISPATCHER_REPORT_S, self.s.visibility_timeout_s / 3))
        while not stop.is_set():
            ids = list(self.in_flight)
            now = time.monotonic()
            overdue = sum(1 for m in ids if self._deadlines.get(m, (now, 0.0))[0] < now)
            with contextlib.suppress(psycopg.Error, OSError):
                async with self.pool.connection() as conn:
                    if ids:
                        await claims.extend(conn, ids, vt_s=self.s.visibility_timeout_s)
                    await dispatchers.seen(conn, dispatcher_id=self.id, hostname=socket.gethostname(),
                                           pid=os.getpid(), in_flight=len(ids), overdue=overdue)
                    await conn.commit()
            await self._sleep(stop, period)
        with contextlib.suppress(psycopg.Error, OSError):
            async with self.pool.connection() as conn:
                await dispatchers.gone(conn, self.id)
                await conn.commit()

    async def _drain(self) -> None:
        """Finish in-flight work within the grace period; hand the rest back at once."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.s.shutdown_grace_s)
            # Taken before cancelling: a cancelled call releases its slots as it unwinds.
            left = list(self.in_flight)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        else:
            left = list(self.in_flight)
        if left:
            with contextlib.suppress(psycopg.Error, OSError):
                async with self.pool.connection() as conn:
                    await claims.release(conn, left)
                    await conn.commit()
                log.info("handed %d unfinished messages back to the queue", len(left))


def _attempt(r: Claimed) -> Attempt:
    return Attempt(
        job_id=r.job_id,
        attempt=r.attempts,
        msg_id=r.msg_id,
        max_attempts=r.max_attempts,
        retry_on_error=r.retry_on_error,
        trace_id=r.trace_id,
    )


def _who(rows: list[Claimed], limit: int = 5) -> str:
    """job ids with their trace ids, for log lines an operator can follow across systems."""
    parts = [f"job {r.job_id}" + (f" trace {r.trace_id}" if r.trace_id else "") for r in rows[:limit]]
    return ", ".join(parts) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")
