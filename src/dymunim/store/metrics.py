"""Counters and per-minute rollups, kept by the job_events trigger in each transition's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dymunim.db.pool import DictPool
from dymunim.store.sql import q


@dataclass(frozen=True, slots=True)
class Outcomes:
    minute: datetime | None  # None: summed over all time
    status: str
    cold: bool
    n: int


@dataclass(frozen=True, slots=True)
class LatencyBucket:
    kind: str  # exec_cold, exec_warm or wait
    bucket: int
    lower_ms: float
    upper_ms: float
    n: int


@dataclass(frozen=True, slots=True)
class Failing:
    cache_id: str
    failures: int


@dataclass(frozen=True)
class Window:
    counts: dict[str, int]  # jobs by current status
    outcomes: list[Outcomes]
    latency: list[LatencyBucket]
    failing: list[Failing]


async def window(pool: DictPool, minutes: int) -> Window:
    """Current counts, and outcomes, latency buckets and top failures over the last `minutes`."""
    params = {"minutes": minutes}
    async with pool.connection() as conn:
        counts = await (await conn.execute(q("status_counts"))).fetchall()
        outcomes = await (await conn.execute(q("minute_outcomes"), params)).fetchall()
        hist = await (await conn.execute(q("latency_histogram"), params)).fetchall()
        failing = await (await conn.execute(q("top_failing"), params)).fetchall()
    return Window(
        counts={r["status"]: int(r["n"]) for r in counts},
        outcomes=[Outcomes(r["minute"], r["status"], bool(r["cold"]), int(r["n"])) for r in outcomes],
        latency=[LatencyBucket(r["kind"], r["bucket"], float(r["lower_ms"]), float(r["upper_ms"]), int(r["n"]))
                 for r in hist],
        failing=[Failing(r["cache_id"], int(r["failures"])) for r in failing],
    )


async def all_time(pool: DictPool) -> Window:
    """Everything ever counted (Prometheus counters and histograms are cumulative)."""
    async with pool.connection() as conn:
        counts = await (await conn.execute(q("status_counts"))).fetchall()
        outcomes = await (await conn.execute(q("outcomes_all_time"))).fetchall()
        latency = await (await conn.execute(q("latency_all_time"))).fetchall()
    return Window(
        counts={r["status"]: int(r["n"]) for r in counts},
        outcomes=[Outcomes(None, r["status"], bool(r["cold"]), int(r["n"])) for r in outcomes],
        latency=[LatencyBucket(r["kind"], r["bucket"], float(r["lower_ms"]), float(r["upper_ms"]), int(r["n"]))
                 for r in latency],
        failing=[],
    )
