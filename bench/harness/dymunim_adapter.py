"""dymunim as a system under test of the job-queue benchmarking harness, in one process.

Composed the way `dymunim up` composes it, minus the API: migrations on DATABASE_URL, the local
executor (`dymunim executor`: a supervisor child process and its workerd pool, which die with this
process), an in-process producer that submits through dymunim's own submit path, and an in-process
Dispatcher with max_in_flight = WORKER_COUNT. The job is JavaScript run in workerd: it waits
JOB_WORK_MS and answers; every job shares one cache id, so the isolate stays warm.

Measured through two overrides of the Dispatcher (and nothing else of its internals):
  _start  claim latency = wall clock at the claim - the job's created_at;
  _record a job completed when its attempt, handed over with an outcome, is no longer in flight
          after the record (end to end = that moment - created_at).

Contract: harness_common.py and bench/harness/README.md. At exit, stderr gets one accounting line:
the jobs this process submitted against their statuses in jobs_state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from harness_common import (
    BenchEnv,
    Counters,
    Depths,
    LatencyWindow,
    OutcomeLog,
    descriptor,
    hard_exit_after,
    padding,
    produce,
    repo_version,
    sample,
)

from dymunim.db.migrate import migrate, migration_files
from dymunim.db.pool import DictPool, open_pool
from dymunim.dispatch.dispatcher import Dispatcher
from dymunim.execute.client import Executor, ExecutorClient
from dymunim.execute.direct import DirectExecutor
from dymunim.execute.workerd import free_port
from dymunim.lifecycle import die_with_parent
from dymunim.record.outcomes import Finished
from dymunim.settings import Settings
from dymunim.store.models import Claimed
from dymunim.submit.jobs import submit
from dymunim.submit.spec import JobSpec

SYSTEM = "dymunim"
EVENT_TABLES = [  # the queue table first: the harness's active readers scan event_tables[0]
    "pgmq.q_jobs", "public.jobs_state", "public.job_events", "public.job_attempts", "public.job_status_counts",
    "public.job_minute_outcomes", "public.job_minute_latency",
]
CODE = "if (payload.work_ms > 0) await new Promise((r) => setTimeout(r, payload.work_ms));\nreturn payload.seq;"
CACHE_ID = "bench-harness"
REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 60.0
EXIT_BUDGET_S = 4.5  # the contract: exit within 5 s of SIGTERM

log = logging.getLogger("dymunim-adapter")


class BenchDispatcher(Dispatcher):
    """The stock dispatcher, noting claim and completion times as jobs pass through it."""

    def __init__(self, settings: Settings, dsn: str, pool: DictPool, executor: Executor, counters: Counters,
                 claim: LatencyWindow, e2e: LatencyWindow, outcomes: OutcomeLog) -> None:
        super().__init__(settings, dsn, pool, executor)
        self.counters = counters
        self.claim_ms = claim
        self.e2e_ms = e2e
        self.outcomes = outcomes
        self.created: dict[int, float] = {}  # msg_id -> the job's created_at (epoch s)

    def _start(self, rows: list[Claimed]) -> None:
        now = time.time()
        for r in rows:
            created = r.created_at.timestamp()
            self.created[r.msg_id] = created
            self.claim_ms.add((now - created) * 1000)
        super()._start(rows)

    async def _record(self, finished: list[Finished]) -> None:
        answered = [f for f in finished if f.outcome is not None and f.attempt.msg_id in self.in_flight]
        self.outcomes.write([(f.attempt.job_id, f.attempt.attempt) for f in answered])
        await super()._record(finished)
        now = time.time()
        for f in answered:
            if f.attempt.msg_id not in self.in_flight:
                self.counters.completed += 1
                created = self.created.get(f.attempt.msg_id)
                if created is not None:
                    self.e2e_ms.add((now - created) * 1000)
        for f in finished:
            if f.attempt.msg_id not in self.in_flight:
                self.created.pop(f.attempt.msg_id, None)


class ExecutorChild:
    """`dymunim executor` as up starts it: its own session, SIGKILLed by Linux if this process dies
    (its workerd processes get SIGKILL when it dies in turn)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.token = secrets.token_urlsafe(24)
        self.ready_file = Path(tempfile.mkdtemp(prefix="dymunim-bench-")) / "executor.ready"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.ready_file.unlink(missing_ok=True)
        env = {**os.environ, "EXECUTOR_TOKEN": self.token}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dymunim", "executor", "--port", str(self.port), "--ready-file",
             str(self.ready_file)],
            env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(),  # stdout is the harness's telemetry
            start_new_session=True, preexec_fn=die_with_parent(signal.SIGKILL),
        )

    async def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready_file.exists():
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"the executor exited while starting (code {self.proc and self.proc.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the executor was not ready within {timeout:.0f} s")
            await asyncio.sleep(0.05)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    async def watch(self, stop: asyncio.Event) -> None:
        """Like `up`: an executor that dies is started again (same port and token)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if not stop.is_set() and not self.alive():
                log.error("the executor exited (code %s); restarting it", self.proc and self.proc.returncode)
                self.start()


async def migrate_retrying(dsn: str, stop: asyncio.Event) -> None:
    """Migrations (pgmq included) while Postgres may be restarting or killing backends."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            await asyncio.to_thread(migrate, dsn)
            return
        except (psycopg.OperationalError, OSError) as exc:
            if time.monotonic() > deadline or stop.is_set():
                raise
            log.warning("migrations: database unavailable (%s); retrying", exc)
            await asyncio.sleep(0.5)


async def poll_depth(dsn: str, depths: Depths, stop: asyncio.Event, every: float) -> None:
    """Due (vt <= now) and invisible messages of pgmq.q_jobs, on a connection of its own."""
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                while not stop.is_set():
                    cur = await conn.execute(
                        "SELECT count(*) FILTER (WHERE vt <= now()), count(*) FILTER (WHERE vt > now())"
                        " FROM pgmq.q_jobs")
                    row = await cur.fetchone()
                    if row is not None:
                        depths.polled(int(row[0]), int(row[1]))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), every)
        except (psycopg.Error, OSError) as exc:
            log.warning("depth poll failed (%s); reconnecting", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)


class Submitted:
    """Ids of the jobs this process created (the exit accounting), and batches whose commit is unknown."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.unknown_jobs = 0


async def account(dsn: str, mine: Submitted) -> str:
    """This process's jobs against their statuses in jobs_state, as one line."""
    try:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=2) as conn:
            await conn.execute("SET statement_timeout = '1500ms'")
            cur = await conn.execute(
                "SELECT status, count(*) FROM jobs_state WHERE job_id = ANY(%s) GROUP BY status ORDER BY status",
                (mine.ids,))
            by_status = {str(s): int(n) for s, n in await cur.fetchall()}
    except (psycopg.Error, OSError) as exc:
        return f"accounting: submitted {len(mine.ids)}; statuses unavailable ({type(exc).__name__}: {exc})"
    found = sum(by_status.values())
    statuses = " ".join(f"{k}={v}" for k, v in by_status.items()) or "none"
    return (f"accounting: submitted {len(mine.ids)} (ids known); in jobs_state {found}: {statuses}; "
            f"missing {len(mine.ids) - found}; failed submits {mine.unknown_jobs} jobs (commit unknown)")


async def main() -> None:
    env = BenchEnv.from_environ()
    dsn = env.database_url
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    counters, claim, e2e, depths, mine = Counters(), LatencyWindow(), LatencyWindow(), Depths(), Submitted()
    executor = ExecutorChild()

    def on_term() -> None:
        if not stop.is_set():
            stop.set()
            hard_exit_after(EXIT_BUDGET_S, lambda: executor.stop(0.2))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_term)

    executor.start()  # while the migrations run
    await migrate_retrying(dsn, stop)
    await executor.wait_ready()

    # A short drain: jobs last milliseconds, and the contract wants an exit within 5 s of SIGTERM.
    settings = Settings()  # DYMUNIM_* from the environment still apply, as for `dymunim dispatch`
    settings = settings.model_copy(update={
        "database_url": dsn, "max_in_flight": env.worker_count,
        "executor_url": f"http://127.0.0.1:{executor.port}", "executor_token": executor.token,
        "shutdown_grace_s": min(settings.shutdown_grace_s, 2.0),
    })
    pool = await open_pool(dsn, min_size=2, max_size=8)
    submit_pool = await open_pool(dsn, min_size=1, max_size=2)
    client = ExecutorClient(f"http://127.0.0.1:{executor.port}", executor.token)
    runner: DirectExecutor | ExecutorClient = DirectExecutor(client) if settings.direct_dispatch else client
    dispatcher = BenchDispatcher(settings, dsn, pool, runner, counters, claim, e2e, OutcomeLog(env.outcome_log))

    seq = 0

    async def send(n: int) -> None:
        nonlocal seq
        specs = []
        for _ in range(n):
            seq += 1
            base = {"seq": seq, "work_ms": env.job_work_ms, "instance": env.instance_id}
            specs.append(JobSpec(code=CODE, cache_id=CACHE_ID,
                                 payload={**base, "pad": padding(env.job_payload_bytes, base)}))
        try:
            done = await submit(submit_pool, specs, settings)
        except BaseException:
            mine.unknown_jobs += n
            raise
        mine.ids.extend(int(s.job_id) for s in done)

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute("SELECT current_database(), array(SELECT extname FROM pg_extension"
                                 " WHERE extname IN ('pgmq', 'pgstattuple') ORDER BY 1)")
        row = await cur.fetchone()
    db_name, extensions = (str(row[0]), list(row[1])) if row else ("", [])
    descriptor(SYSTEM, EVENT_TABLES, extensions, repo_version(str(REPO)), migration_files()[-1][0], db_name)

    poll_every = 0.25 if env.producer_mode == "depth-target" else 1.0
    tasks = [
        asyncio.create_task(produce(env, counters, send, depths, stop, (psycopg.Error, OSError)), name="producer"),
        asyncio.create_task(sample(env, SYSTEM, counters, claim, e2e, depths, stop), name="sampler"),
        asyncio.create_task(executor.watch(stop), name="executor-watch"),
    ]
    if env.observer or env.producer_mode == "depth-target":
        tasks.append(asyncio.create_task(poll_depth(dsn, depths, stop, poll_every), name="depth"))
    try:
        await dispatcher.run(stop)  # returns after stop: in-flight work finished or handed back
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        print(await account(dsn, mine), file=sys.stderr, flush=True)
        await runner.aclose()
        await pool.close(timeout=1)
        await submit_pool.close(timeout=1)
        executor.stop(1.0)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s dymunim-adapter %(levelname)s %(name)s: %(message)s")
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as r:
        r.run(main())
