"""Two peer Postgres job queues on the same Postgres server as dymunim: Graphile Worker 0.17.3 and pgqueuer 1.6.0.

Each peer gets its own database on the server (bench_graphile, bench_pgqueuer: dropped and created at the start,
dropped at the end), so dymunim's tables are not touched. Prints one line per figure (`name value`).

Run alone: .venv/bin/python bench/peers.py [--dsn postgresql://...] [--jobs 100000] [--peer graphile|pgqueuer]
(without --dsn it starts the embedded dymunim stack, as bench/throughput.py does, and uses its Postgres).
From another bench: `from bench.peers import graphile, pgqueuer` and call them with a DSN and a job count.

The peers are installed on first use, outside the project's dependencies (all of it gitignored):
  - graphile-worker@0.17.3 with `npm ci` into bench/peer_runners/graphile/node_modules (package.json, lock
    beside it);
  - pgqueuer[asyncpg]==1.6.0 into its own venv, bench/.peers/pgqueuer-venv.

Drain figures: n no-op jobs are queued while no worker runs; then two worker processes are told to start, and
the clock runs from that moment until the peer's job table is empty. jobs/s = n / elapsed. Each worker counts
the no-op jobs it ran; the sum must be n (and pgqueuer's own log must hold n successful jobs).

Figures: graphile_add_jobs_per_s (the one addJobs call), graphile_drain_s, graphile_drain_jobs_per_s,
graphile_idle_p50_ms, graphile_idle_p99_ms (200 jobs added one at a time to idle workers, add -> ran by the
database clock), pgqueuer_enqueue_jobs_per_s, pgqueuer_drain_s, pgqueuer_drain_jobs_per_s. Jobs run per
worker go to stderr.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peer_runners"
CACHE = ROOT / "bench" / ".peers"
GRAPHILE_DIR = PEERS / "graphile"
GRAPHILE_VERSION = "0.17.3"
PGQUEUER_VENV = CACHE / "pgqueuer-venv"
PGQUEUER_REQUIREMENT = "pgqueuer[asyncpg]==1.6.0"
PGQUEUER_VERSION = "1.6.0"
WORKERS = 2
LATENCY_JOBS = 200
STARTUP_TIMEOUT_S = 60.0
POLL_S = 0.01


# ---------------------------------------------------------------------------------------------- connections


def peer_env(dsn: str, dbname: str) -> dict[str, str]:
    """The environment for a peer's process: the server of `dsn` through PG* variables, database `dbname`.

    node's `pg` and asyncpg both read PGHOST (a unix socket directory works), PGPORT, PGUSER, PGPASSWORD and
    PGDATABASE. Whatever else could point them elsewhere (DATABASE_URL, which Graphile prefers) is dropped.
    """
    params = conninfo_to_dict(dsn)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_URL"))}
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"), ("password", "PGPASSWORD")):
        value = params.get(key)
        if value not in (None, ""):
            env[var] = str(value)
    env["PGDATABASE"] = dbname
    return env


def recreate_database(dsn: str, dbname: str) -> str:
    """Drop and create `dbname` on the server of `dsn`; returns a DSN for it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return make_conninfo(dsn, dbname=dbname)


def drop_database(dsn: str, dbname: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def wait_empty(conn: psycopg.Connection[tuple[object, ...]], table: str, workers: list[Child], timeout: float) -> float:
    """perf_counter() at the first poll that finds `table` empty (polled every POLL_S)."""
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(*table.split(".")))
    deadline = time.perf_counter() + timeout
    while True:
        row = conn.execute(query).fetchone()
        now = time.perf_counter()
        if row is not None and not row[0]:
            return now
        for w in workers:
            w.check_alive()
        if now > deadline:
            raise TimeoutError(f"{table} not empty after {timeout:.0f} s")
        time.sleep(POLL_S)


# ---------------------------------------------------------------------------------------------- processes

_live: set[Child] = set()
_live_lock = threading.Lock()


class Child:
    """A peer process speaking the runners' line protocol: lines "@@ ..." on stdout, commands on stdin.

    It runs in its own session (so it and anything it starts can be killed as a group) and is killed when the
    benchmark ends, however it ends. Its stderr goes to a file quoted in errors.
    """

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], cwd: Path, log_dir: Path) -> None:
        self.name = name
        self.stderr_path = log_dir / f"{name}.stderr"
        self._stderr: IO[bytes] = self.stderr_path.open("wb")
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            argv, env=dict(env), cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            start_new_session=True, text=True, bufsize=1,
        )
        with _live_lock:
            _live.add(self)
        threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@@ "):
                self._lines.put(line[3:].strip())
        self._lines.put(None)

    def stderr_tail(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-3000:]

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.stderr_tail()}")

    def expect(self, word: str, timeout: float = STARTUP_TIMEOUT_S) -> str:
        """The rest of the next protocol line starting with `word`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"{self.name}: no '{word}' within {timeout:.0f} s:\n{self.stderr_tail()}") from None
            if line is None:
                self.proc.wait(5)
                code = self.proc.returncode
                raise RuntimeError(f"{self.name} exited ({code}) before '{word}':\n{self.stderr_tail()}")
            if line == word or line.startswith(word + " "):
                return line[len(word) :].strip()

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        self._stderr.close()
        with _live_lock:
            _live.discard(self)


def _kill_all() -> None:
    with _live_lock:
        children = list(_live)
    for c in children:
        c.kill()


atexit.register(_kill_all)


@contextmanager
def workers(name: str, argv: list[str], env: Mapping[str, str], cwd: Path, log_dir: Path) -> Iterator[list[Child]]:
    """WORKERS processes of `argv`, each loaded (connected, waiting for "go"); all killed on the way out."""
    children: list[Child] = []
    try:
        for i in range(WORKERS):
            children.append(Child(f"{name}-worker-{i}", argv, env, cwd, log_dir))
        for c in children:
            c.expect("loaded")
        yield children
    finally:
        for c in children:
            c.kill()


def start_and_drain(children: list[Child], conn: psycopg.Connection[tuple[object, ...]], table: str, n: int) -> float:
    """Tell every worker to start; seconds from then until `table` is empty."""
    t0 = time.perf_counter()
    for c in children:
        c.send("go")
    for c in children:
        c.expect("started")
    return wait_empty(conn, table, children, timeout=max(300.0, n / 200)) - t0


def stop_and_count(children: list[Child]) -> int:
    """Stop every worker cleanly; the number of no-op jobs they ran between them."""
    for c in children:
        c.send("stop")
    ran = [int(c.expect("ran", timeout=60)) for c in children]
    for c in children:
        c.proc.wait(30)
    print(f"# {children[0].name.rsplit('-', 2)[0]} jobs run per worker: {ran}", file=sys.stderr, flush=True)
    return sum(ran)


def run_step(argv: list[str], env: Mapping[str, str], cwd: Path, timeout: float) -> str:
    """Run one command to its end (killed if it overruns or we are interrupted); its stdout."""
    r = subprocess.run(argv, env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def protocol_value(stdout: str, word: str) -> list[str]:
    for line in stdout.splitlines():
        if line.startswith(f"@@ {word} "):
            return line.split()[2:]
    raise RuntimeError(f"no '@@ {word}' line in:\n{stdout[-2000:]}")


def figure(out: dict[str, float], name: str, value: float, digits: int = 0) -> None:
    out[name] = value
    print(f"{name} {value:.{digits}f}", flush=True)


def percentile(sorted_ms: list[float], q: float) -> float:
    """The same rank as bench/throughput.py's idle latency p99 (lat[int(len * q) - 1])."""
    return sorted_ms[max(0, int(len(sorted_ms) * q) - 1)]


# ---------------------------------------------------------------------------------------------- installs


def ensure_graphile() -> None:
    """graphile-worker@0.17.3 in bench/peer_runners/graphile/node_modules (npm ci from the checked-in lock),
    if missing."""
    installed = GRAPHILE_DIR / "node_modules" / "graphile-worker" / "package.json"
    if not installed.exists():
        run_step(["npm", "ci", "--no-audit", "--no-fund"], os.environ, GRAPHILE_DIR, timeout=600)
    version = json.loads(installed.read_text())["version"]
    if version != GRAPHILE_VERSION:
        raise RuntimeError(f"{installed} is graphile-worker {version}, not {GRAPHILE_VERSION}")


def ensure_pgqueuer() -> Path:
    """pgqueuer 1.6.0 (with asyncpg) in its own venv, bench/.peers/pgqueuer-venv, if missing; its python."""
    python = PGQUEUER_VENV / "bin" / "python"
    probe = [str(python), "-c", "import asyncpg, importlib.metadata as m; print(m.version('pgqueuer'))"]
    if python.exists():
        r = subprocess.run(probe, capture_output=True, text=True, check=False)
        if r.returncode == 0 and r.stdout.strip() == PGQUEUER_VERSION:
            return python
    CACHE.mkdir(parents=True, exist_ok=True)
    run_step([sys.executable, "-m", "venv", "--clear", str(PGQUEUER_VENV)], os.environ, ROOT, timeout=300)
    run_step([str(python), "-m", "pip", "install", "-q", PGQUEUER_REQUIREMENT], os.environ, ROOT, timeout=900)
    version = run_step(probe, os.environ, ROOT, timeout=60).strip()
    if version != PGQUEUER_VERSION:
        raise RuntimeError(f"{PGQUEUER_VENV} has pgqueuer {version}, not {PGQUEUER_VERSION}")
    return python


# ---------------------------------------------------------------------------------------------- peers


def graphile(dsn: str, n: int, latency_jobs: int = LATENCY_JOBS) -> dict[str, float]:
    """Graphile Worker 0.17.3: drain of n no-op jobs by two workers (concurrency 24, local queue 500, batched
    completion), then idle latency of `latency_jobs` jobs added one at a time, by the database clock."""
    ensure_graphile()
    out: dict[str, float] = {}
    db = "bench_graphile"
    db_dsn = recreate_database(dsn, db)
    env = {**peer_env(dsn, db), "NO_LOG_SUCCESS": "1"}  # as Graphile's own perfTest: no log line per job
    runner = str(GRAPHILE_DIR / "runner.js")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-graphile-") as logs, \
                psycopg.connect(db_dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE bench_lat (seq int PRIMARY KEY, added_at timestamptz NOT NULL,"
                         " done_at timestamptz NOT NULL)")
            # Migrate, then queue all n jobs with one addJobs call, while no worker runs.
            added, add_s = protocol_value(run_step(["node", runner, "add", str(n)], env, GRAPHILE_DIR,
                                                   timeout=600), "added")
            assert int(added) == n, f"addJobs added {added} of {n}"
            figure(out, "graphile_add_jobs_per_s", n / float(add_s))
            with workers("graphile", ["node", runner, "worker"], env, GRAPHILE_DIR, Path(logs)) as procs:
                elapsed = start_and_drain(procs, conn, "graphile_worker._private_jobs", n)
                figure(out, "graphile_drain_s", elapsed, 2)
                figure(out, "graphile_drain_jobs_per_s", n / elapsed)
                lat = graphile_idle_latency(conn, procs, latency_jobs)
                figure(out, "graphile_idle_p50_ms", statistics.median(lat), 1)
                figure(out, "graphile_idle_p99_ms", percentile(lat, 0.99), 1)
                ran = stop_and_count(procs)
            if ran != n:
                raise RuntimeError(f"graphile workers ran {ran} no-op jobs, {n} were added")
            left = conn.execute("SELECT count(*) FROM graphile_worker._private_jobs").fetchone()
            if left is None or left[0] != 0:
                raise RuntimeError(f"graphile jobs left behind: {left}")
    finally:
        drop_database(dsn, db)
    return out


def graphile_idle_latency(conn: psycopg.Connection[tuple[object, ...]], procs: list[Child], k: int) -> list[float]:
    """Workers running and idle: add k jobs one at a time (graphile_worker.add_job, what WorkerUtils.addJob calls),
    each waited for, jobs table empty again, before the next. add -> ran, both by the database clock: the
    payload carries clock_timestamp() at add; the task inserts clock_timestamp() when it runs."""
    time.sleep(1.0)  # let both workers settle after the drain
    for seq in range(k):
        conn.execute("SELECT graphile_worker.add_job('stamp', json_build_object('seq', %s::int,"
                     " 'added_at', clock_timestamp()))", (seq,))
        deadline = time.monotonic() + 30
        while True:
            row = conn.execute("SELECT EXISTS (SELECT 1 FROM bench_lat WHERE seq = %s)"
                               " AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs)", (seq,)).fetchone()
            if row is not None and row[0]:
                break
            for p in procs:
                p.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"graphile latency job {seq} not done after 30 s")
            time.sleep(0.002)
    rows = conn.execute("SELECT extract(epoch FROM done_at - added_at) * 1000 FROM bench_lat").fetchall()
    if len(rows) != k:
        raise RuntimeError(f"graphile ran {len(rows)} of {k} latency jobs")
    return sorted(float(r[0]) for r in rows)  # type: ignore[arg-type]


def pgqueuer(dsn: str, n: int) -> dict[str, float]:
    """pgqueuer 1.6.0: drain of n no-op jobs by two workers (QueueManager.run(batch_size=100), asyncpg)."""
    python = str(ensure_pgqueuer())
    out: dict[str, float] = {}
    db = "bench_pgqueuer"
    db_dsn = recreate_database(dsn, db)
    env = peer_env(dsn, db)
    runner = str(PEERS / "pgqueuer" / "runner.py")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pgqueuer-") as logs, \
                psycopg.connect(db_dsn, autocommit=True) as conn:
            run_step([str(PGQUEUER_VENV / "bin" / "pgq"), "install"], env, CACHE, timeout=120)
            added, add_s = protocol_value(run_step([python, runner, "enqueue", str(n)], env, CACHE, timeout=600),
                                          "added")
            assert int(added) == n, f"enqueue added {added} of {n}"
            figure(out, "pgqueuer_enqueue_jobs_per_s", n / float(add_s))
            with workers("pgqueuer", [python, runner, "worker"], env, CACHE, Path(logs)) as procs:
                elapsed = start_and_drain(procs, conn, "pgqueuer", n)
                figure(out, "pgqueuer_drain_s", elapsed, 2)
                figure(out, "pgqueuer_drain_jobs_per_s", n / elapsed)
                ran = stop_and_count(procs)
            if ran != n:
                raise RuntimeError(f"pgqueuer workers ran {ran} no-op jobs, {n} were enqueued")
            row = conn.execute("SELECT count(DISTINCT job_id) FROM pgqueuer_log"
                               " WHERE status = 'successful' AND entrypoint = 'noop'").fetchone()
            if row is None or row[0] != n:
                raise RuntimeError(f"pgqueuer_log holds {row} successful jobs, {n} were enqueued")
    finally:
        drop_database(dsn, db)
    return out


PEER_FUNCTIONS: dict[str, Callable[[str, int], dict[str, float]]] = {"graphile": graphile, "pgqueuer": pgqueuer}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dsn", help="Postgres server to use; without it the embedded dymunim stack is started")
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--peer", choices=sorted(PEER_FUNCTIONS), action="append",
                    help="run only this peer (repeatable); default: all")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally blocks and atexit still run
    peers = args.peer or list(PEER_FUNCTIONS)
    if args.dsn:
        for p in peers:
            PEER_FUNCTIONS[p](args.dsn, args.jobs)
        return
    sys.path.insert(0, str(ROOT))
    from tests.conftest import start_stack, stop_stack_proc

    stack = start_stack(Path(tempfile.mkdtemp()))
    try:
        for p in peers:
            PEER_FUNCTIONS[p](stack.dsn, args.jobs)
    finally:
        stop_stack_proc(stack.proc)


if __name__ == "__main__":
    main()
