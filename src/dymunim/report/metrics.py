"""What /api/metrics reports: counts, throughput, latency percentiles, cold/warm, top failing.

Computed from the store's counters and per-minute rollups (kept by the job_events trigger in each
transition's transaction), so the cost does not grow with the number of jobs. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from dymunim.domain import JobStatus
from dymunim.store.metrics import Window


class Percentiles(BaseModel):
    p50: float | None
    p95: float | None
    p99: float | None


class Minute(BaseModel):
    minute: datetime
    succeeded: int
    failed: int


class ColdWarm(BaseModel):
    cold: int
    warm: int
    cold_p50_ms: float | None
    warm_p50_ms: float | None


class Failing(BaseModel):
    cache_id: str
    failures: int


class Metrics(BaseModel):
    range_minutes: int
    counts: dict[str, int]
    total: int
    success_rate: float | None
    throughput: list[Minute]
    queue_wait_ms: Percentiles
    exec_ms: Percentiles
    cold: ColdWarm
    top_failing: list[Failing]


Bucket = tuple[float, float, int]  # (lower_ms, upper_ms, count)


def percentile(hist: Sequence[Bucket], p: float) -> float | None:
    """The p-th percentile (nearest rank: the ceil(p·n)-th smallest value), estimated from a histogram.

    hist: one (lower_ms, upper_ms, count) per bucket (lower, upper], ascending. The bucket holding
    that rank is found exactly; inside it the bucket's values are taken as spread evenly on a log
    scale (the buckets are log-spaced, 0004_latency_log_buckets.sql), so the estimate lies inside the
    bucket that holds the true value and is off by less than the ratio of its edges (2^(1/8): under
    9.1%). The overflow bucket has no upper edge: it answers its lower one, "at least this".
    """
    total = sum(n for _, _, n in hist)
    if total <= 0:
        return None
    # p·n in floating point can miss a whole rank by a hair (0.7 * 90 = 62.99999999999999).
    rank = max(1, math.ceil(round(p * total, 9)))
    seen = 0
    for lower, upper, n in hist:
        if n <= 0:
            continue
        if seen + n >= rank:
            if math.isinf(upper):
                return lower
            frac = (rank - seen - 0.5) / n  # the rank-th value's place among the bucket's n, centred
            if lower <= 0:  # the first bucket starts at 0, where a log scale has no place
                return round(upper * frac, 4)
            return round(lower * math.pow(upper / lower, frac), 4)
        seen += n
    return None


def _pcts(hist: Sequence[Bucket]) -> Percentiles:
    return Percentiles(p50=percentile(hist, 0.5), p95=percentile(hist, 0.95), p99=percentile(hist, 0.99))


def summarize(w: Window, range_minutes: int) -> Metrics:
    counts = {s.value: 0 for s in JobStatus} | w.counts
    per_minute: dict[datetime, dict[str, int]] = defaultdict(lambda: {"succeeded": 0, "failed": 0})
    totals: dict[str, int] = defaultdict(int)
    cold_n = {True: 0, False: 0}
    for o in w.outcomes:
        totals[o.status] += o.n
        if o.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            cold_n[o.cold] += o.n
        key = ("succeeded" if o.status == JobStatus.SUCCEEDED
               else "failed" if o.status in (JobStatus.FAILED, JobStatus.DEAD) else None)
        if key and o.minute is not None:
            per_minute[o.minute][key] += o.n
    hists: dict[str, list[Bucket]] = defaultdict(list)
    for b in w.latency:
        hists[b.kind].append((b.lower_ms, b.upper_ms, b.n))
    exec_all: dict[tuple[float, float], int] = defaultdict(int)
    for kind in ("exec_cold", "exec_warm"):
        for lower, upper, n in hists[kind]:
            exec_all[lower, upper] += n
    finished = totals[JobStatus.SUCCEEDED] + totals[JobStatus.FAILED] + totals[JobStatus.DEAD]
    return Metrics(
        range_minutes=range_minutes,
        counts=counts,
        total=sum(counts.values()),
        success_rate=totals[JobStatus.SUCCEEDED] / finished if finished else None,
        throughput=[Minute(minute=m, **v) for m, v in sorted(per_minute.items())],
        queue_wait_ms=_pcts(hists["wait"]),
        exec_ms=_pcts([(lower, upper, n) for (lower, upper), n in sorted(exec_all.items())]),
        cold=ColdWarm(cold=cold_n[True], warm=cold_n[False], cold_p50_ms=percentile(hists["exec_cold"], 0.5),
                      warm_p50_ms=percentile(hists["exec_warm"], 0.5)),
        top_failing=[Failing(cache_id=f.cache_id, failures=f.failures) for f in w.failing],
    )
