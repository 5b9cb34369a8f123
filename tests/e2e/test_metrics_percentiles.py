"""/api/metrics reports latency percentiles within 10% of the true ones, on a real `dymunim up`."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc

SLEEPS_MS = [30 + 10 * i for i in range(60)]  # 30 … 620 ms: the old buckets read the 320 ms median as 500


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own, running only the jobs below: /api/metrics counts every job in its range."""
    s = start_stack(tmp_path_factory.mktemp("metrics"))
    try:
        jobs = [{"code": f"await new Promise(r => setTimeout(r, {n})); return {n}"} for n in SLEEPS_MS]
        with s.client() as c:
            r = c.post("/api/jobs/batch", json={"jobs": jobs})
            assert r.status_code == 201 and not r.json()["errors"], r.text
        with s.db() as db:
            deadline = time.monotonic() + 60
            while (row := db.execute("SELECT count(*) AS n FROM jobs_state WHERE status = 'succeeded'").fetchone()
                   ) and row["n"] < len(jobs):
                assert time.monotonic() < deadline, "jobs did not finish"
                time.sleep(0.1)
        yield s
    finally:
        stop_stack_proc(s.proc)


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(round(p * len(ordered), 9))) - 1]


def close(got: float | None, true: float) -> bool:
    # 10% is the promise; 0.5 ms of slack covers a true value that is itself a sub-millisecond wait.
    return got is not None and abs(got - true) <= 0.10 * true + 0.5


def test_percentiles_are_within_ten_percent_of_the_jobs_own_durations(quiet_stack: Stack) -> None:
    s = quiet_stack
    with s.db() as db:
        durations = [float(r["duration_ms"]) for r in db.execute("SELECT duration_ms FROM jobs_state").fetchall()]
        # Queue wait as the rollup counts it: from when the job may run to its first claim.
        waits = [float(r["ms"]) for r in db.execute(
            """SELECT extract(epoch FROM j.started_at - GREATEST(j.created_at, j.run_at)) * 1000 AS ms
               FROM jobs_state j WHERE j.attempts = 1""").fetchall()]
    assert len(durations) == len(waits) == len(SLEEPS_MS)
    assert all(d >= n * 0.9 for d, n in zip(sorted(durations), SLEEPS_MS, strict=True)), "jobs slept as asked"

    with s.client() as c:
        m = c.get("/api/metrics", params={"range_minutes": 60}).json()
    for p, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        assert close(m["exec_ms"][key], nearest_rank(durations, p)), (key, m["exec_ms"], sorted(durations))
        assert close(m["queue_wait_ms"][key], nearest_rank(waits, p)), (key, m["queue_wait_ms"], sorted(waits))


def test_prometheus_histogram_counts_are_exact_at_each_doubling(quiet_stack: Stack) -> None:
    with quiet_stack.db() as db:
        durations = [float(r["duration_ms"]) for r in db.execute("SELECT duration_ms FROM jobs_state").fetchall()]
    text = httpx.get(quiet_stack.url + "/metrics").text
    buckets = {le: float(n) for le, n in re.findall(r'dymunim_execution_seconds_bucket\{le="([^"]+)"\} (\S+)', text)}
    assert buckets["+Inf"] == len(durations)
    for k in range(-6, 25):
        edge_ms = 2.0**k
        assert buckets[f"{edge_ms / 1000:g}"] == sum(d <= edge_ms for d in durations), edge_ms
