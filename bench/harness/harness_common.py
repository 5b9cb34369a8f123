"""What both bench adapters share: the harness contract's environment, telemetry lines and producer pacing.

The contract (hardbyte/postgresql-job-queue-benchmarking, CONTRIBUTING_ADAPTERS.md): one long-running
process configured by environment variables, a descriptor line on stdout first (the readiness signal),
then one JSON line per metric every SAMPLE_EVERY_S, logs on stderr only, exit soon after SIGTERM.
Each adapter supplies its own send / claim / complete; pacing, windows and sampling live here so both
systems are paced and measured the same way.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LATENCY_WINDOW_S = 30.0
LATENCY_CAP = 400_000  # points kept per window (about 13k/s over 30 s); the oldest go first


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(float(raw)) if raw else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class BenchEnv:
    database_url: str
    producer_rate: float
    rate_control_file: str | None
    producer_mode: str  # fixed | depth-target
    target_depth: int
    worker_count: int
    job_work_ms: int
    job_payload_bytes: int
    sample_every_s: float
    instance_id: int
    pacing: str  # harness (ENQUEUE n on stdin) | adapter
    batch_max: int
    batch_ms: float
    outcome_log: str | None  # not in the contract: exact accounting for bench/pressure.py

    @classmethod
    def from_environ(cls) -> BenchEnv:
        url = os.environ.get("DATABASE_URL", "").strip()
        if not url:
            sys.exit("DATABASE_URL is not set")
        mode = os.environ.get("PRODUCER_MODE", "fixed").strip() or "fixed"
        if mode not in ("fixed", "depth-target"):
            sys.exit(f"PRODUCER_MODE={mode!r}: expected fixed or depth-target")
        pacing = os.environ.get("PRODUCER_PACING", "harness").strip() or "harness"
        if pacing not in ("harness", "adapter"):
            sys.exit(f"PRODUCER_PACING={pacing!r}: expected harness or adapter")
        return cls(
            database_url=url,
            producer_rate=env_float("PRODUCER_RATE", 800.0),
            rate_control_file=os.environ.get("PRODUCER_RATE_CONTROL_FILE") or None,
            producer_mode=mode,
            target_depth=env_int("TARGET_DEPTH", 1000),
            worker_count=max(1, env_int("WORKER_COUNT", 32)),
            job_work_ms=max(0, env_int("JOB_WORK_MS", 1)),
            job_payload_bytes=max(0, env_int("JOB_PAYLOAD_BYTES", 256)),
            sample_every_s=max(0.5, env_float("SAMPLE_EVERY_S", 5.0)),
            instance_id=env_int("BENCH_INSTANCE_ID", 0),
            pacing=pacing,
            batch_max=max(1, env_int("PRODUCER_BATCH_MAX", 128)),
            batch_ms=max(1.0, env_float("PRODUCER_BATCH_MS", 25.0)),
            outcome_log=os.environ.get("BENCH_OUTCOME_LOG") or None,
        )

    @property
    def observer(self) -> bool:
        """Only instance 0 reports what is shared by all replicas (queue depths, the target rate)."""
        return self.instance_id == 0


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def emit(record: dict[str, Any]) -> None:
    """One telemetry line on stdout, flushed: the harness reads it as it comes."""
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def padding(payload_bytes: int, base: dict[str, Any]) -> str:
    """A filler string so that base + {"pad": filler} serialises to about payload_bytes."""
    used = len(json.dumps({**base, "pad": ""}, separators=(",", ":")))
    return "x" * max(0, payload_bytes - used)


class LatencyWindow:
    """Latencies (ms) of the last 30 s, percentiles by sorting at each sample tick."""

    def __init__(self) -> None:
        self._points: collections.deque[tuple[float, float]] = collections.deque(maxlen=LATENCY_CAP)

    def add(self, ms: float) -> None:
        self._points.append((time.monotonic(), ms))

    def percentiles(self, *qs: float) -> list[float] | None:
        cutoff = time.monotonic() - LATENCY_WINDOW_S
        while self._points and self._points[0][0] < cutoff:
            self._points.popleft()
        if not self._points:
            return None
        values = sorted(ms for _, ms in self._points)
        last = len(values) - 1
        return [values[min(last, int(q * len(values)))] for q in qs]


class RateControl:
    """The target rate: PRODUCER_RATE, or what the harness wrote into the control file (high-load phases)."""

    def __init__(self, default: float, path: str | None) -> None:
        self.default = default
        self.path = path

    def rate(self) -> float:
        if not self.path:
            return self.default
        try:
            with open(self.path, encoding="utf-8") as f:
                return max(0.0, float(f.read().strip()))
        except (OSError, ValueError):
            return self.default


class StdinTokens:
    """PRODUCER_PACING=harness: the harness writes `ENQUEUE <n>` lines; each grants n jobs to send."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.granted = 0
        self.arrived = asyncio.Event()
        threading.Thread(target=self._read, name="stdin-tokens", daemon=True).start()

    def _grant(self, n: int) -> None:
        self.granted += n
        self.arrived.set()

    def _read(self) -> None:
        for line in sys.stdin:
            parts = line.split()
            if len(parts) == 2 and parts[0] == "ENQUEUE" and parts[1].isdigit():
                self.loop.call_soon_threadsafe(self._grant, int(parts[1]))


@dataclass
class Counters:
    enqueued: int = 0
    completed: int = 0
    send_failures: int = 0  # batches whose send raised: they may or may not have committed


@dataclass
class Depths:
    """The queue as the depth poller last saw it; the producer adds what it sent since (depth-target)."""

    due: int | None = None  # queue_depth: visible, not yet claimed
    invisible: int | None = None  # running_depth: claimed (or backing off) and not finished
    sent_since_poll: int = 0

    def polled(self, due: int, invisible: int) -> None:
        self.due, self.invisible, self.sent_since_poll = due, invisible, 0


Send = Callable[[int], Awaitable[None]]


async def produce(env: BenchEnv, counters: Counters, send: Send, depths: Depths, stop: asyncio.Event,
                  retryable: tuple[type[BaseException], ...]) -> None:
    """Offer jobs at the contract's rate through `send(n)` (one bulk call of n <= PRODUCER_BATCH_MAX).

    fixed + adapter pacing: credit accrues on elapsed wall time (rate x seconds since the last tick),
    never per iteration, so a slow call does not lower the offered rate; credit left while the
    database is down is sent once it is back. harness pacing: n = the ENQUEUE tokens received.
    depth-target: top the due queue up to TARGET_DEPTH. A failed send is logged and paced again.
    """
    loop = asyncio.get_running_loop()
    control = RateControl(env.producer_rate, env.rate_control_file)
    tokens = StdinTokens(loop) if env.pacing == "harness" and env.producer_mode == "fixed" else None
    pause = env.batch_ms / 1000
    credit = 0.0
    last = loop.time()
    while not stop.is_set():
        if env.producer_mode == "depth-target":
            have = depths.due
            n = 0 if have is None else min(env.batch_max, env.target_depth - have - depths.sent_since_poll)
        elif tokens is not None:
            if tokens.granted == 0:
                tokens.arrived.clear()
                await _wait_either(tokens.arrived, stop, 1.0)
                continue
            n = min(env.batch_max, tokens.granted)
        else:
            now = loop.time()
            credit += control.rate() * (now - last)
            last = now
            n = min(env.batch_max, int(credit))
        if n <= 0:
            await _wait_either(stop, None, pause)
            continue
        try:
            await send(n)
        except retryable as exc:
            counters.send_failures += 1
            why = str(exc).splitlines()[0] if str(exc) else ""
            print(f"send of {n} failed ({type(exc).__name__}: {why}); retrying", file=sys.stderr, flush=True)
            await _wait_either(stop, None, 0.5)
            continue
        counters.enqueued += n
        depths.sent_since_poll += n
        if tokens is not None:
            tokens.granted -= n
        elif env.producer_mode == "fixed":
            credit -= n
        # Another batch at once while a whole one is owed (catching up, or a deep deficit below the target).
        owed = n == env.batch_max if env.producer_mode == "depth-target" else credit >= env.batch_max
        if tokens is None and not owed:
            await _wait_either(stop, None, pause)


async def _wait_either(a: asyncio.Event, b: asyncio.Event | None, timeout: float) -> None:
    waits = [asyncio.ensure_future(a.wait())] + ([asyncio.ensure_future(b.wait())] if b else [])
    _, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for p in pending:
        p.cancel()


async def sample(env: BenchEnv, system: str, counters: Counters, claim: LatencyWindow, e2e: LatencyWindow,
                 depths: Depths, stop: asyncio.Event) -> None:
    """Every SAMPLE_EVERY_S, aligned to the wall clock, one line per metric."""
    every = env.sample_every_s
    control = RateControl(env.producer_rate, env.rate_control_file)
    # Ticks on wall-clock multiples of SAMPLE_EVERY_S. The first one covers only the time since the
    # adapter started, and says so in its window_s: the harness integrates rate x window_s.
    last_tick = time.time()
    tick = (last_tick // every + 1) * every
    last_enq, last_done = counters.enqueued, counters.completed
    while not stop.is_set():
        await _wait_either(stop, None, max(0.0, tick - time.time()))
        if stop.is_set():
            break
        window = round(tick - last_tick, 3)
        t = datetime.fromtimestamp(tick, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        rows: list[tuple[str, float, float]] = []
        for name, lat in (("claim", claim), ("end_to_end", e2e)):
            p = lat.percentiles(0.50, 0.95, 0.99)
            if p is not None:
                rows += [(f"{name}_p50_ms", p[0], LATENCY_WINDOW_S), (f"{name}_p95_ms", p[1], LATENCY_WINDOW_S),
                         (f"{name}_p99_ms", p[2], LATENCY_WINDOW_S)]
        enq, done = counters.enqueued, counters.completed
        rows += [("enqueue_rate", (enq - last_enq) / window, window),
                 ("completion_rate", (done - last_done) / window, window)]
        last_enq, last_done, last_tick = enq, done, tick
        tick += every
        if env.observer:
            if depths.due is not None:
                rows.append(("queue_depth", depths.due, 0))
            if depths.invisible is not None:
                rows.append(("running_depth", depths.invisible, 0))
            if env.producer_mode == "fixed":
                rows.append(("producer_target_rate", control.rate(), 0))
        for metric, value, window_s in rows:
            emit({"t": t, "system": system, "kind": "adapter", "subject_kind": "adapter", "subject": "",
                  "metric": metric, "value": round(float(value), 3), "window_s": window_s,
                  "instance_id": env.instance_id})


def descriptor(system: str, event_tables: list[str], extensions: list[str], version: str, schema_version: str,
               db_name: str) -> None:
    emit({"kind": "descriptor", "system": system, "event_tables": event_tables, "extensions": extensions,
          "version": version, "schema_version": schema_version, "db_name": db_name, "started_at": now_iso(),
          "instance_id": env_int("BENCH_INSTANCE_ID", 0)})


def hard_exit_after(seconds: float, last_words: Callable[[], None]) -> None:
    """The contract gives 5 s from SIGTERM to exit: whatever still runs then is cut short."""

    def _fire() -> None:
        try:
            last_words()
        finally:
            sys.stdout.flush()
            os._exit(0)

    timer = threading.Timer(seconds, _fire)
    timer.daemon = True
    timer.start()


class OutcomeLog:
    """Appends `<id> <attempt>` per job that ran to an answer, with one write(2) per batch: what was
    written survives a SIGKILL of this process, so bench/pressure.py can count jobs that ran twice."""

    def __init__(self, path: str | None) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else None

    def write(self, pairs: list[tuple[int, int]]) -> None:
        if self.fd is not None and pairs:
            os.write(self.fd, "".join(f"{i} {a}\n" for i, a in pairs).encode())


def repo_version(path: str) -> str:
    """The checkout's commit, for the descriptor's version field."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", path, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
