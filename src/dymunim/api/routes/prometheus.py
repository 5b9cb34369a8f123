"""GET /metrics: Prometheus exposition built from the same counters and rollups as /api/metrics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from dymunim.api.deps import State
from dymunim.api.spa import spa_index
from dymunim.db.queries import q

router = APIRouter(tags=["health"])


class _Snapshot:
    """A one-shot collector: the families were read from Postgres before the registry asks."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


# One Prometheus bucket per doubling, 2^-6 ms to 2^24 ms: these edges are edges of the rollup's finer
# buckets (8 per doubling, 0004_latency_log_buckets.sql), so each cumulative count is exact, and a
# scrape carries 32 buckets per histogram instead of 242.
_EDGES_MS = [2.0**k for k in range(-6, 25)]


def _histogram(name: str, doc: str, rows: list[dict[str, Any]]) -> HistogramMetricFamily:
    h = HistogramMetricFamily(name, doc, unit="")
    counts = sorted((float(r["upper_ms"]), int(r["n"])) for r in rows)
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


@router.get("/metrics", include_in_schema=True, summary="Prometheus metrics", response_class=Response)
async def prometheus(state: State, request: Request) -> Response:
    # /metrics is also a page of the UI: a browser (Accept: text/html) gets the app, a scraper the text.
    if "text/html" in request.headers.get("accept", ""):
        return spa_index()
    async with state.pool.connection() as conn:
        counts = await (await conn.execute(q("status_counts"))).fetchall()
        outcomes = await (await conn.execute(q("outcomes_all_time"))).fetchall()
        latency = await (await conn.execute(q("latency_all_time"))).fetchall()
        queues = await (await conn.execute(q("queue_metrics"))).fetchall()
    jobs = GaugeMetricFamily("dymunim_jobs", "Jobs by current status", labels=["status"])
    for r in counts:
        jobs.add_metric([r["status"]], float(r["n"]))
    execs = CounterMetricFamily("dymunim_executions", "Finished attempts by outcome", labels=["outcome"])
    cold = CounterMetricFamily("dymunim_executions_start", "Finished attempts by cold or warm start",
                               labels=["start"])
    by_outcome: dict[str, float] = defaultdict(float)
    by_start: dict[str, float] = defaultdict(float)
    for r in outcomes:
        by_outcome[r["status"]] += float(r["n"])
        if r["status"] in ("succeeded", "failed"):
            by_start["cold" if r["cold"] else "warm"] += float(r["n"])
    for k, v in by_outcome.items():
        execs.add_metric([k], v)
    for k, v in by_start.items():
        cold.add_metric([k], v)
    depth = GaugeMetricFamily("dymunim_queue_depth", "Messages in each pgmq queue", labels=["queue"])
    oldest = GaugeMetricFamily("dymunim_queue_oldest_age_seconds", "Age of the oldest message", labels=["queue"])
    for r in queues:
        depth.add_metric([r["queue_name"]], float(r["queue_length"]))
        oldest.add_metric([r["queue_name"]], float(r["oldest_msg_age_sec"] or 0))
    exec_rows = [r for r in latency if r["kind"] in ("exec_cold", "exec_warm")]
    merged: dict[int, dict[str, Any]] = {}
    for r in exec_rows:
        m = merged.setdefault(r["bucket"], {"bucket": r["bucket"], "upper_ms": r["upper_ms"], "n": 0})
        m["n"] += int(r["n"])
    families: list[Metric] = [
        jobs, execs, cold, depth, oldest,
        _histogram("dymunim_execution_seconds", "Execution time of finished attempts", list(merged.values())),
        _histogram("dymunim_queue_wait_seconds", "Time from submit to first start",
                   [r for r in latency if r["kind"] == "wait"]),
    ]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return Response(generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8")
