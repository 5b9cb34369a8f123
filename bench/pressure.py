"""The job-queue benchmarking harness's pressure and chaos cells, run natively on an embedded Postgres 16.

hardbyte/postgresql-job-queue-benchmarking drives each system through an adapter process (stdout JSONL
telemetry) and changes the world around it: a transaction pinning the xmin horizon, readers holding a
REPEATABLE READ snapshot, SIGKILLs of the adapter, a Postgres restart, backends terminated twice a
second, 300 idle connections. This script does the same without Docker, with the adapters of
bench/harness/ (dymunim and a raw pgmq peer), each cell and system in a fresh database of one server
(max_connections = 400 and the autovacuum settings of the harness's postgres.conf).

Per phase it prints, one line per figure: median claim p50/p99 and end-to-end p99, median completion
and enqueue rate, the largest queue depth, and per event table the peak and last n_dead_tup and the
size at the phase's start and end. After chaos: the harness's jobs_lost estimate (enqueued - completed,
integrated from the rates), the time back to 90% of the baseline completion rate and the recovery /
baseline ratio; then the exact accounting from the database (lost ids, jobs that ran to an answer twice,
re-runs after a lost attempt). Last, dymunim against the peer of the same run.

Run: .venv/bin/python bench/pressure.py [--cells idle_in_tx,crash_recovery] [--systems dymunim,pgmq]
     [--scale 0.25] [--rate 800] [--workers 32]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dymunim.db.embedded import EmbeddedPostgres

HERE = Path(__file__).resolve().parent
ADAPTERS = {"dymunim": HERE / "harness" / "dymunim_adapter.py", "pgmq": HERE / "harness" / "pgmq_adapter.py"}
OBSERVER = "bench-pressure"  # application_name of this script's own connections (never the system under test)

# The harness's postgres.conf, where it matters here.
PG_SETTINGS = {
    "max_connections": "400", "shared_buffers": "256MB", "work_mem": "8MB", "maintenance_work_mem": "128MB",
    "synchronous_commit": "on", "autovacuum": "on", "autovacuum_naptime": "60s",
    "autovacuum_vacuum_cost_delay": "2ms", "autovacuum_vacuum_cost_limit": "200",
    "autovacuum_vacuum_scale_factor": "0.2", "autovacuum_analyze_scale_factor": "0.1",
    "autovacuum_vacuum_threshold": "50", "autovacuum_analyze_threshold": "50",
}


@dataclass(frozen=True)
class Phase:
    label: str
    kind: str  # clean | idle-in-tx | active-readers | kill-worker | start-worker | repeated-kill | ...
    seconds: float


# The harness's scenarios (phases.py; the published sweep's pressure cells are longer variants).
CELLS: dict[str, list[tuple[str, str, float]]] = {
    "idle_in_tx": [("baseline", "clean", 60), ("idle", "idle-in-tx", 120), ("recovery", "clean", 60)],
    "active_readers": [("baseline", "clean", 60), ("readers", "active-readers", 120), ("recovery", "clean", 60)],
    "crash_recovery": [("baseline", "clean", 60), ("kill", "kill-worker", 60), ("restart", "start-worker", 60),
                       ("recovery", "clean", 60)],
    "repeated_kills": [("baseline", "clean", 60), ("repeated", "repeated-kill", 120), ("recovery", "clean", 60)],
    "postgres_restart": [("baseline", "clean", 60), ("restart", "postgres-restart", 60), ("recovery", "clean", 60)],
    "pg_backend_kill": [("baseline", "clean", 60), ("kills", "pg-backend-kill", 60), ("recovery", "clean", 60)],
    "pool_exhaustion": [("baseline", "clean", 60), ("exhaustion", "pool-exhaustion", 60), ("recovery", "clean", 60)],
}
CHAOS = {"kill-worker", "start-worker", "repeated-kill", "postgres-restart", "pg-backend-kill", "pool-exhaustion"}
STRESS = {"idle-in-tx", "active-readers"}
WARMUP_S = 30.0
KILL_PERIOD_S = 20.0
IDLE_CONNS = 300
RATES = {"enqueue_rate", "completion_rate"}


def out(line: str) -> None:
    print(line, flush=True)


def fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if float(v).is_integer():
        return str(int(v))
    if abs(v) < 10:
        return f"{v:.3f}"
    return f"{v:.1f}" if abs(v) < 1000 else str(round(v))


# ---------------------------------------------------------------- Postgres

class Server:
    """The embedded Postgres 16 every cell shares; stopped (fast) and started again on its data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.pg = EmbeddedPostgres(data_dir)
        self.uri = self.pg.start()

    def dsn(self, db: str, app: str | None = None) -> str:
        extra = {"application_name": app} if app else {}
        return make_conninfo(self.uri, dbname=db, **extra)

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn("postgres", OBSERVER), autocommit=True)

    def stop_fast(self, timeout: float = 60) -> None:
        """What `pg_ctl stop -m fast` does: SIGINT to the postmaster, then wait until it is gone."""
        pid = self.pg.postmaster_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.pg.postmaster_pid() is not None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres (pid {pid}) did not stop within {timeout:.0f} s")
            time.sleep(0.1)

    def start_again(self, timeout: float = 60) -> None:
        self.pg.restart()
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.admin() as c:
                    c.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def configure(self) -> None:
        with self.admin() as c:
            for name, value in PG_SETTINGS.items():
                c.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
        self.stop_fast()
        self.start_again()
        with self.admin() as c:
            row = c.execute("SHOW max_connections").fetchone()
        out(f"postgres max_connections {row[0] if row else '?'}")

    def fresh_database(self, name: str) -> str:
        with self.admin() as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(self.dsn(name, OBSERVER), autocommit=True) as c:
            try:
                c.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
            except psycopg.Error:
                pass  # not shipped by the embedded server: sizes and dead tuples come from pg_stat anyway
        return self.dsn(name)

    def stop(self) -> None:
        self.pg.stop()


# ---------------------------------------------------------------- the adapter process and its telemetry

@dataclass
class Sample:
    t: float  # the adapter's tick (epoch s)
    phase: str
    metric: str
    value: float
    window_s: float


@dataclass
class TableSample:
    t: float
    phase: str
    table: str
    dead: int
    live: int
    size: int


class AdapterRun:
    """One system's adapter for one cell: launched, killed and relaunched as the harness does."""

    def __init__(self, system: str, dsn: str, env: dict[str, str], log_path: Path) -> None:
        self.system = system
        self.dsn = dsn
        self.env = env
        self.log_path = log_path
        self.phase = "startup"
        self.samples: list[Sample] = []
        self.descriptor: dict[str, Any] = {}
        self.proc: subprocess.Popen[str] | None = None
        self.expect_running = False
        self.lock = threading.Lock()
        self.orphans: list[int] = []  # per SIGKILL: children of the adapter still alive after it
        self.kills = 0
        self._described = threading.Event()

    def launch(self, timeout: float = 60) -> None:
        self._described.clear()
        log = self.log_path.open("a")
        proc = subprocess.Popen(
            [sys.executable, str(ADAPTERS[self.system])], env=self.env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1,
        )
        log.close()
        with self.lock:
            self.proc = proc
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._described.wait(0.1):
            if proc.poll() is not None:
                raise RuntimeError(f"{self.system} adapter exited (code {proc.returncode}) before its descriptor; "
                                   f"log {self.log_path}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no descriptor from the {self.system} adapter within {timeout:.0f} s")
        self.expect_running = True

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                rec = json.loads(line)
            except ValueError:
                with self.log_path.open("a") as log:
                    log.write(line)
                continue
            if rec.get("kind") == "descriptor":
                self.descriptor = rec
                self._described.set()
            elif rec.get("kind") == "adapter" and isinstance(rec.get("value"), int | float):
                t = datetime.fromisoformat(str(rec["t"]).replace("Z", "+00:00")).timestamp()
                self.samples.append(Sample(t, self.phase, str(rec["metric"]), float(rec["value"]),
                                           float(rec.get("window_s") or 0)))

    def alive(self) -> bool:
        with self.lock:
            return self.proc is not None and self.proc.poll() is None

    def sigkill(self) -> None:
        """kill-worker: stdin closed, SIGKILL to the adapter's pid alone (no process group), as the harness."""
        with self.lock:
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        self.expect_running = False
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()
        proc.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2)
        self.kills += 1
        time.sleep(1.0)  # PDEATHSIG is immediate; give stragglers a moment anyway
        alive = [c for c in children if _running(c)]
        self.orphans.append(len(alive))
        for c in alive:  # never leave them running into the next phase
            with contextlib.suppress(psutil.Error):
                c.kill()

    def sigterm(self, grace: float = 10) -> float | None:
        """The end of a run: SIGTERM, SIGKILL after the grace. Returns the seconds it took to exit."""
        with self.lock:
            proc = self.proc
        self.expect_running = False
        if proc is None or proc.poll() is not None:
            return None
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
            took: float | None = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            took = None
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()
        return took

    def log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class TableWatch:
    """Every SAMPLE_EVERY_S: n_dead_tup, n_live_tup and pg_total_relation_size of the event tables."""

    def __init__(self, dsn: str, tables: list[str], every: float, run: AdapterRun) -> None:
        self.dsn, self.tables, self.every, self.run = dsn, tables, every, run
        self.samples: list[TableSample] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        names = [t if "." in t else f"public.{t}" for t in self.tables]
        while not self.stop.wait(self.every - time.time() % self.every):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=3)
                rows = conn.execute(
                    "SELECT schemaname || '.' || relname, n_dead_tup, n_live_tup, pg_total_relation_size(relid)"
                    " FROM pg_stat_user_tables WHERE schemaname || '.' || relname = ANY(%s)", (names,)).fetchall()
            except psycopg.Error:
                conn = None  # restarting, backends being killed, or no connection slot left: skip this tick
                continue
            now, phase = time.time(), self.run.phase
            self.samples += [TableSample(now, phase, str(n), int(d), int(lv), int(s)) for n, d, lv, s in rows]
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


# ---------------------------------------------------------------- what the phases do to the world

Stopper = Callable[[], None]


def hold_idle_in_tx(dsn: str) -> Stopper:
    """An open transaction holding an XID (SELECT txid_current()), idle for the whole phase."""
    conn = psycopg.connect(dsn, autocommit=False)
    conn.execute("SELECT txid_current()")

    def stop() -> None:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        conn.close()
    return stop


def active_readers(dsn: str, table: str, n: int = 4) -> Stopper:
    """n REPEATABLE READ transactions, each scanning `table` every 0.1 s inside one snapshot for the phase."""
    done = threading.Event()
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*table.split(".")))

    def read() -> None:
        try:
            with psycopg.connect(dsn, autocommit=False) as conn:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                while not done.is_set():
                    with contextlib.suppress(psycopg.Error):
                        conn.execute(query).fetchall()
                    done.wait(0.1)
        except psycopg.Error:
            pass

    threads = [threading.Thread(target=read, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()

    def stop() -> None:
        done.set()
        for t in threads:
            t.join(5)
    return stop


def backend_killer(server: Server, db: str) -> tuple[Stopper, Callable[[], int]]:
    """Every 0.5 s: pg_terminate_backend of the database's backends that are active or idle in transaction."""
    done = threading.Event()
    killed = [0]

    def loop() -> None:
        try:
            with server.admin() as c:
                while not done.wait(0.5):
                    row = c.execute(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid() AND application_name <> %s"
                        " AND state IN ('active', 'idle in transaction')", (db, OBSERVER)).fetchone()
                    killed[0] += int(row[0]) if row else 0
        except psycopg.Error as exc:  # the harness stops killing on an error too
            out(f"# backend killer stopped: {exc}")

    t = threading.Thread(target=loop, daemon=True)
    t.start()

    def stop() -> None:
        done.set()
        t.join(5)
    return stop, lambda: killed[0]


def exhaust_pool(dsn: str, n: int) -> tuple[Stopper, int]:
    """Up to n idle connections, opened one after another until the first refusal, held for the phase."""
    held: list[psycopg.Connection[Any]] = []
    for _ in range(n):
        try:
            held.append(psycopg.connect(dsn, autocommit=True, connect_timeout=5))
        except psycopg.Error:
            break

    def stop() -> None:
        for c in held:
            with contextlib.suppress(psycopg.Error):
                c.close()
    return stop, len(held)


# ---------------------------------------------------------------- one cell of one system

@dataclass
class CellResult:
    system: str
    phases: list[Phase]
    samples: list[Sample] = field(default_factory=list)
    tables: list[TableSample] = field(default_factory=list)
    figures: dict[str, float | None] = field(default_factory=dict)  # headline figures for the peer ratio
    aborted: str | None = None


def phases_of(cell: str, scale: float) -> list[Phase]:
    return [Phase("warmup", "clean", max(10.0, WARMUP_S * scale))] + [
        Phase(label, kind, max(5.0, seconds * scale)) for label, kind, seconds in CELLS[cell]]


def run_cell(server: Server, cell: str, system: str, args: argparse.Namespace, run_dir: Path) -> CellResult:
    db = f"{system}_{cell}"
    dsn = server.fresh_database(db)
    phases = phases_of(cell, args.scale)
    rate_file = run_dir / f"{cell}-{system}.rate"
    rate_file.write_text(str(args.rate))
    outcome_log = run_dir / f"{cell}-{system}.outcomes"
    outcome_log.unlink(missing_ok=True)
    env = {
        **os.environ, "DATABASE_URL": dsn, "SCENARIO": "long_horizon", "PRODUCER_MODE": "fixed",
        "PRODUCER_RATE": str(args.rate), "PRODUCER_RATE_CONTROL_FILE": str(rate_file), "PRODUCER_PACING": "adapter",
        "WORKER_COUNT": str(args.workers), "JOB_WORK_MS": str(args.work_ms), "JOB_PAYLOAD_BYTES": "256",
        "SAMPLE_EVERY_S": str(args.sample_every), "BENCH_INSTANCE_ID": "0", "MALLOC_ARENA_MAX": "2",
        "BENCH_OUTCOME_LOG": str(outcome_log),
    }
    run = AdapterRun(system, dsn, env, run_dir / f"{cell}-{system}.log")
    result = CellResult(system, phases)
    run.launch()
    tables = [str(t) for t in run.descriptor.get("event_tables", [])]
    watch = TableWatch(server.dsn(db, OBSERVER), tables, args.sample_every, run)
    extra: dict[str, float] = {}
    try:
        for phase in phases:
            run.phase = phase.label
            stopper = start_phase(phase, run, server, db, dsn, tables, extra, args.scale)
            try:
                wait_phase(phase, run)
            finally:
                if stopper:
                    stopper()
            if phase.kind in ("repeated-kill", "start-worker") and not run.alive():
                run.launch()
        run.phase = "drain"
        result.figures["drain_s"] = drain(dsn, tables[0], rate_file, args.drain_s)
    except RuntimeError as exc:
        result.aborted = str(exc)
    finally:
        exit_s = run.sigterm()
        watch.close()
    result.samples, result.tables = run.samples, watch.samples
    if exit_s is not None:
        result.figures["sigterm_exit_s"] = exit_s
    if run.kills:
        result.figures["sigkills"] = run.kills
        result.figures["orphans_alive_after_sigkill"] = max(run.orphans)
    result.figures |= extra
    if result.aborted is None:
        result.figures |= account(system, dsn, outcome_log)
    return result


def start_phase(phase: Phase, run: AdapterRun, server: Server, db: str, dsn: str, tables: list[str],
                extra: dict[str, float], scale: float) -> Stopper | None:
    if phase.kind == "idle-in-tx":
        return hold_idle_in_tx(dsn)
    if phase.kind == "active-readers":
        return active_readers(dsn, tables[0])
    if phase.kind == "kill-worker":
        run.sigkill()
        return None
    if phase.kind == "start-worker":
        run.launch()
        return None
    if phase.kind == "repeated-kill":
        return repeated_kills(run, max(10.0, KILL_PERIOD_S * scale))
    if phase.kind == "postgres-restart":
        return restart_postgres(server, phase.seconds / 2, extra)
    if phase.kind == "pg-backend-kill":
        stop, killed = backend_killer(server, db)

        def stop_and_count() -> None:
            stop()
            extra["backends_terminated"] = killed()
        return stop_and_count
    if phase.kind == "pool-exhaustion":
        release, held = exhaust_pool(dsn, IDLE_CONNS)
        extra["idle_connections_held"] = held
        return release
    return None


def repeated_kills(run: AdapterRun, period: float) -> Stopper:
    """Every `period`: SIGKILL the adapter, start it again 1 s later."""
    done = threading.Event()
    failed: list[str] = []

    def loop() -> None:
        while not done.wait(period):
            run.sigkill()
            if done.wait(1.0):
                break
            try:
                run.launch()
            except RuntimeError as exc:
                failed.append(str(exc))
                return

    t = threading.Thread(target=loop, daemon=True)
    t.start()

    def stop() -> None:
        done.set()
        t.join(90)
        if failed:
            raise RuntimeError(failed[0])
    return stop


def restart_postgres(server: Server, down_s: float, extra: dict[str, float]) -> Stopper:
    """Stop Postgres (fast) now, start it again after `down_s`, in a thread; the stopper joins it."""
    failed: list[str] = []

    def cycle() -> None:
        try:
            t0 = time.monotonic()
            server.stop_fast()
            time.sleep(max(0.0, down_s - (time.monotonic() - t0)))
            server.start_again()
            extra["postgres_down_s"] = time.monotonic() - t0
        except Exception as exc:
            failed.append(repr(exc))

    t = threading.Thread(target=cycle, daemon=True)
    t.start()

    def stop() -> None:
        t.join(120)
        if failed:
            raise RuntimeError(f"postgres restart failed: {failed[0]}")
    return stop


def wait_phase(phase: Phase, run: AdapterRun) -> None:
    """Sleep through the phase; an adapter that exits while it should run ends the cell (the harness aborts)."""
    end = time.monotonic() + phase.seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(1.0, left))
        if run.expect_running and not run.alive():
            raise RuntimeError(f"the {run.system} adapter exited during phase {phase.label}; log {run.log_path}:\n"
                               f"{run.log_tail()}")


def drain(dsn: str, queue_table: str, rate_file: Path, limit_s: float) -> float | None:
    """Producer off (rate 0 in the control file), then wait until the queue table is empty: the exact
    accounting then tells lost jobs from jobs still waiting. Returns the seconds it took, None if not empty."""
    rate_file.write_text("0")
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(*queue_table.split(".")))
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        with contextlib.suppress(psycopg.Error), psycopg.connect(dsn, autocommit=True, connect_timeout=3) as c:
            row = c.execute(query).fetchone()
            if row and row[0] == 0:
                return time.monotonic() - t0
        time.sleep(1.0)
    return None


def ran_twice(outcome_log: Path) -> tuple[int, int]:
    """(jobs that ran to an answer, jobs that did so more than once) from the adapters' outcome logs."""
    counts: dict[int, int] = defaultdict(int)
    with contextlib.suppress(FileNotFoundError), outcome_log.open() as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                counts[int(parts[0])] += 1
    return len(counts), sum(1 for n in counts.values() if n > 1)


def account(system: str, dsn: str, outcome_log: Path) -> dict[str, float]:
    """The exact accounting from the database, after the drain."""
    answered, twice = ran_twice(outcome_log)
    figures: dict[str, float] = {"exact_ran_to_answer": answered, "exact_completed_twice": twice}
    with psycopg.connect(dsn, autocommit=True) as c:
        if system == "dymunim":
            by_status: dict[str, int] = dict(
                c.execute("SELECT status, count(*) FROM jobs_state GROUP BY status").fetchall())
            orphans = c.execute(
                "SELECT job_id, status FROM jobs_state j WHERE status NOT IN ('succeeded', 'failed', 'dead',"
                " 'cancelled') AND NOT EXISTS (SELECT 1 FROM pgmq.q_jobs q WHERE q.msg_id = j.msg_id)"
                " ORDER BY job_id").fetchall()
            row = c.execute("SELECT count(DISTINCT job_id) FROM job_attempts WHERE outcome = 'lost'").fetchone()
            figures["exact_submitted"] = sum(by_status.values())
            for status, n in sorted(by_status.items()):
                figures[f"exact_status_{status}"] = n
            pending = sum(n for s, n in by_status.items() if s not in ("succeeded", "failed", "dead", "cancelled"))
            figures["exact_pending_with_message"] = pending - len(orphans)
            figures["exact_lost_ids"] = len(orphans) + by_status.get("dead", 0) + by_status.get("failed", 0)
            figures["exact_rerun_after_lost_attempt"] = int(row[0]) if row else 0
            if orphans:
                out(f"# dymunim lost ids (no message left, not finished): {[int(j) for j, _ in orphans[:20]]}")
        else:
            q, a, redelivered = c.execute(
                "SELECT (SELECT count(*) FROM pgmq.q_bench_peer), (SELECT count(*) FROM pgmq.a_bench_peer),"
                " (SELECT count(*) FROM pgmq.a_bench_peer WHERE read_ct > 1)").fetchone() or (0, 0, 0)
            figures |= {"exact_submitted": q + a, "exact_archived": a, "exact_pending_with_message": q,
                        "exact_lost_ids": 0, "exact_archived_after_redelivery": redelivered}
    return figures


# ---------------------------------------------------------------- figures

def by_tick(samples: list[Sample], phase: str, metric: str) -> list[tuple[float, float, float]]:
    """(t, value, window_s) per tick of a phase: rates summed over replicas, the rest their max."""
    ticks: dict[float, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.phase == phase and s.metric == metric:
            ticks[round(s.t, 1)].append(s)
    rows = []
    for t, group in sorted(ticks.items()):
        v = sum(s.value for s in group) if metric in RATES else max(s.value for s in group)
        rows.append((t, v, group[0].window_s))
    return rows


def median_of(samples: list[Sample], phase: str, metric: str) -> float | None:
    vals = [v for _, v, _ in by_tick(samples, phase, metric)]
    return statistics.median(vals) if vals else None


def max_of(samples: list[Sample], phase: str, metric: str) -> float | None:
    vals = [v for _, v, _ in by_tick(samples, phase, metric)]
    return max(vals) if vals else None


def report(cell: str, r: CellResult) -> None:
    sysname = r.system
    p = f"{cell} {sysname}"
    if r.aborted:
        out(f"{p} ABORTED {r.aborted}")
    labels = [ph for ph in r.phases if ph.label != "warmup"]
    base = "baseline"
    headline = [("claim_p50_ms", median_of), ("claim_p99_ms", median_of), ("end_to_end_p99_ms", median_of),
                ("completion_rate", median_of), ("enqueue_rate", median_of), ("queue_depth", max_of)]
    for ph in labels:
        if not any(s.phase == ph.label for s in r.samples):
            out(f"{p} {ph.label} no_adapter_samples (it was not running)")
        for metric, how in headline:
            v = how(r.samples, ph.label, metric)
            if v is None:
                continue
            name = f"{metric}_max" if how is max_of else metric
            line = f"{p} {ph.label} {name} {fmt(v)}"
            b = how(r.samples, base, metric)
            if ph.label != base and b:
                line += f" (baseline {fmt(b)}, {v / b:.2f}x)"
            out(line)
        report_tables(p, ph.label, r.tables)
    # The harness's published ratios.
    clean = median_of(r.samples, base, "completion_rate")
    r.figures["baseline_completion_rate"] = clean
    r.figures["baseline_claim_p99_ms"] = median_of(r.samples, base, "claim_p99_ms")
    for i, ph in enumerate(labels):
        if ph.kind in STRESS:
            v = median_of(r.samples, ph.label, "completion_rate")
            ratio = v / clean if v is not None and clean else None
            r.figures["stress_over_clean_completion"] = ratio
            r.figures["stress_claim_p99_ms"] = median_of(r.samples, ph.label, "claim_p99_ms")
            out(f"{p} {ph.label} stress_over_clean_completion {fmt(ratio)}")
            if i + 1 < len(labels):
                dead_recovery(p, ph.label, labels[i + 1].label, r)
        if ph.kind == "clean" and i > 0 and labels[i - 1].kind in CHAOS:
            chaos: list[str] = []
            for prev in reversed(labels[:i]):
                if prev.kind not in CHAOS:
                    break
                chaos.insert(0, prev.label)
            chaos_figures(p, chaos, ph.label, clean, r)
    for name, value in r.figures.items():
        if name.startswith(("exact_", "sigterm", "sigkills", "orphans", "drain", "postgres_down", "backends_",
                            "idle_connections")):
            out(f"{p} {name} {fmt(value)}")


def report_tables(p: str, phase: str, tables: list[TableSample]) -> None:
    rows: dict[str, list[TableSample]] = defaultdict(list)
    for s in tables:
        if s.phase == phase:
            rows[s.table].append(s)
    quiet = []
    for table, ss in sorted(rows.items()):
        peak, end = max(s.dead for s in ss), ss[-1].dead
        start_kb, end_kb = ss[0].size // 1024, ss[-1].size // 1024
        if peak == 0 and start_kb == end_kb:
            quiet.append(table)
            continue
        out(f"{p} {phase} {table} n_dead_tup_peak {peak}")
        out(f"{p} {phase} {table} n_dead_tup_end {end}")
        out(f"{p} {phase} {table} size_kb_start {start_kb}")
        out(f"{p} {phase} {table} size_kb_end {end_kb}")
    if quiet:
        out(f"{p} {phase} tables_without_dead_tuples_or_growth {','.join(quiet)}")


def dead_recovery(p: str, stress: str, after: str, r: CellResult) -> None:
    """After the horizon is released: seconds until summed n_dead_tup is back under 10% of the stress peak."""
    def summed(phase: str) -> list[tuple[float, int]]:
        ticks: dict[float, int] = defaultdict(int)
        for s in r.tables:
            if s.phase == phase:
                ticks[round(s.t)] += s.dead
        return sorted(ticks.items())
    peak_rows, after_rows = summed(stress), summed(after)
    if not peak_rows or not after_rows:
        return
    peak = max(v for _, v in peak_rows)
    out(f"{p} {stress} n_dead_tup_peak_all_tables {peak}")
    t0 = peak_rows[-1][0]
    back = next((t - t0 for t, v in after_rows if v <= 0.1 * peak), None)
    out(f"{p} {after} n_dead_tup_to_10pct_of_peak_s {fmt(back)}")


def chaos_figures(p: str, chaos: list[str], recovery: str, clean: float | None, r: CellResult) -> None:
    """The harness's chaos aggregates (writers._chaos_aggregates): rate integrals, recovery time, ratio."""
    enq = sum(v * w for ph in [*chaos, recovery] for _, v, w in by_tick(r.samples, ph, "enqueue_rate"))
    done = sum(v * w for ph in [*chaos, recovery] for _, v, w in by_tick(r.samples, ph, "completion_rate"))
    lost = max(0.0, enq - done)
    chaos_ticks = [t for ph in chaos for t, _, _ in by_tick(r.samples, ph, "completion_rate")]
    rec = by_tick(r.samples, recovery, "completion_rate")
    recovered_s = None
    if clean and rec:
        since = max(chaos_ticks) if chaos_ticks else rec[0][0]
        recovered_s = next((t - since for t, v, _ in rec if v >= 0.9 * clean), None)
    median_rec = median_of(r.samples, recovery, "completion_rate")
    ratio = median_rec / clean if median_rec is not None and clean else None
    r.figures |= {"jobs_lost_estimate": lost, "recovery_time_s": recovered_s, "recovery_over_baseline": ratio}
    out(f"{p} {recovery} jobs_enqueued_estimate {fmt(enq)}")
    out(f"{p} {recovery} jobs_completed_estimate {fmt(done)}")
    out(f"{p} {recovery} jobs_lost_estimate {fmt(lost)}")
    out(f"{p} {recovery} recovery_time_to_90pct_s {fmt(recovered_s)}")
    out(f"{p} {recovery} recovery_over_baseline_completion {fmt(ratio)}")


def compare(cell: str, results: dict[str, CellResult]) -> None:
    """dymunim against the raw pgmq peer of the same run, figure by figure."""
    a, b = results.get("dymunim"), results.get("pgmq")
    if a is None or b is None:
        return
    for name in ("baseline_completion_rate", "baseline_claim_p99_ms", "stress_over_clean_completion",
                 "stress_claim_p99_ms", "recovery_over_baseline", "recovery_time_s", "jobs_lost_estimate",
                 "exact_lost_ids", "exact_completed_twice"):
        if name not in a.figures and name not in b.figures:
            continue
        va, vb = a.figures.get(name), b.figures.get(name)
        ratio = f"{va / vb:.2f}x" if va is not None and vb else "-"
        out(f"{cell} dymunim_vs_pgmq {name} {ratio} (dymunim {fmt(va)}, pgmq {fmt(vb)})")


@contextlib.contextmanager
def terminated_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C: adapters and Postgres are stopped on the way out."""
    def on_term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--cells", default=",".join(CELLS), help=f"comma-separated, of: {', '.join(CELLS)}")
    ap.add_argument("--systems", default="dymunim,pgmq", help="comma-separated, of: dymunim, pgmq")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every phase duration (0.25: a quick run)")
    ap.add_argument("--rate", type=float, default=800, help="PRODUCER_RATE, jobs/s")
    ap.add_argument("--workers", type=int, default=32, help="WORKER_COUNT")
    ap.add_argument("--work-ms", type=int, default=1, help="JOB_WORK_MS")
    ap.add_argument("--sample-every", type=float, default=5, help="SAMPLE_EVERY_S")
    ap.add_argument("--drain-s", type=float, default=90, help="how long the queue may take to empty after a cell")
    ap.add_argument("--dir", type=Path, default=None, help="where logs and the Postgres data go (default: a temp dir)")
    args = ap.parse_args()
    cells = [c for c in args.cells.split(",") if c]
    systems = [s for s in args.systems.split(",") if s]
    for name, known in ((cells, CELLS), (systems, ADAPTERS)):
        unknown = [n for n in name if n not in known]
        if unknown:
            ap.error(f"unknown: {', '.join(unknown)} (known: {', '.join(known)})")
    run_dir = (args.dir or Path(tempfile.mkdtemp(prefix="dymunim-pressure-"))).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    out(f"# logs in {run_dir}; cells {','.join(cells)}; systems {','.join(systems)}; scale {args.scale}; "
        f"rate {args.rate:g}/s; workers {args.workers}; work {args.work_ms} ms")
    server: Server | None = None
    with terminated_as_interrupt():
        try:
            server = Server(run_dir / "data")
            server.configure()
            for cell in cells:
                results: dict[str, CellResult] = {}
                for system in systems:
                    out(f"# {cell} {system}: " + ", ".join(f"{ph.label} {ph.seconds:g}s"
                                                          for ph in phases_of(cell, args.scale)))
                    try:
                        results[system] = run_cell(server, cell, system, args, run_dir)
                    except RuntimeError as exc:
                        out(f"{cell} {system} ABORTED {exc}")
                        continue
                    report(cell, results[system])
                compare(cell, results)
        finally:
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
            shutil.rmtree(run_dir / "data", ignore_errors=True)


if __name__ == "__main__":
    main()
