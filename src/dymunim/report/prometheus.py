"""Prometheus exposition built from the same counters and rollups as /api/metrics. Pure: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from dymunim.domain import JobStatus
from dymunim.store.metrics import LatencyBucket, Window
from dymunim.store.models import QueueInfo

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# One Prometheus bucket per doubling, 2^-6 ms to 2^24 ms: these edges are edges of the rollup's finer
# buckets (8 per doubling, 0004_latency_log_buckets.sql), so each cumulative count is exact, and a
# scrape carries 32 buckets per histogram instead of 242.
_EDGES_MS = [2.0**k for k in range(-6, 25)]


class _Snapshot:
    """A one-shot collector: the families were read from Postgres before the registry asks."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _histogram(name: str, doc: str, rows: Sequence[tuple[float, int]]) -> HistogramMetricFamily:
    """rows: (upper_ms, count) per rollup bucket."""
    h = HistogramMetricFamily(name, doc, unit="")
    counts = sorted(rows)
    buckets: list[tuple[str, float]] = []
    cum, i = 0, 0
    for edge in _EDGES_MS:
        while i < len(counts) and counts[i][0] <= edge * (1 + 1e-9):  # power() may round the edge
            cum += counts[i][1]
            i += 1
        buckets.append((f"{edge / 1000:g}", cum))
    buckets.append(("+Inf", sum(n for _, n in counts)))
    h.add_metric([], buckets, sum_value=None)
    return h


def _merged(latency: Sequence[LatencyBucket], kinds: tuple[str, ...]) -> list[tuple[float, int]]:
    by_bucket: dict[int, tuple[float, int]] = {}
    for b in latency:
        if b.kind in kinds:
            upper, n = by_bucket.get(b.bucket, (b.upper_ms, 0))
            by_bucket[b.bucket] = (upper, n + b.n)
    return list(by_bucket.values())


def exposition(w: Window, queues: Sequence[QueueInfo]) -> bytes:
    jobs = GaugeMetricFamily("dymunim_jobs", "Jobs by current status", labels=["status"])
    for status, n in w.counts.items():
        jobs.add_metric([status], float(n))
    execs = CounterMetricFamily("dymunim_executions", "Finished attempts by outcome", labels=["outcome"])
    cold = CounterMetricFamily("dymunim_executions_start", "Finished attempts by cold or warm start",
                               labels=["start"])
    by_outcome: dict[str, float] = defaultdict(float)
    by_start: dict[str, float] = defaultdict(float)
    for o in w.outcomes:
        by_outcome[o.status] += o.n
        if o.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            by_start["cold" if o.cold else "warm"] += o.n
    for k, v in by_outcome.items():
        execs.add_metric([k], v)
    for k, v in by_start.items():
        cold.add_metric([k], v)
    depth = GaugeMetricFamily("dymunim_queue_depth", "Messages in each pgmq queue", labels=["queue"])
    oldest = GaugeMetricFamily("dymunim_queue_oldest_age_seconds", "Age of the oldest message", labels=["queue"])
    for qi in queues:
        depth.add_metric([qi.queue_name], float(qi.queue_length))
        oldest.add_metric([qi.queue_name], float(qi.oldest_msg_age_sec or 0))
    families: list[Metric] = [
        jobs, execs, cold, depth, oldest,
        _histogram("dymunim_execution_seconds", "Execution time of finished attempts",
                   _merged(w.latency, ("exec_cold", "exec_warm"))),
        _histogram("dymunim_queue_wait_seconds", "Time from submit to first start", _merged(w.latency, ("wait",))),
    ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return generate_latest(registry)
