"""dymunim's throughput and idle latency on the embedded stack (`dymunim up`), beside its peers in the same run.

One Postgres, one run: Graphile Worker 0.17.3 and pgqueuer 1.6.0 (bench/peers.py, each in its own database on
the same server), raw pgmq, then dymunim: end to end (batch submits while dispatching), a drain (submit with
the dispatcher stopped, then time the drain), the submit API alone, and idle submit -> succeeded latency.
Only same-run ratios mean anything: the machine varies by 2x from day to day.

Prints one line per figure. Run: .venv/bin/python bench/throughput.py [--jobs 100000] [--no-peers]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.peers import graphile, pgqueuer
from tests.conftest import Stack, start_stack, stop_stack_proc

JOBS = [{"code": "return payload.i + 1", "payload": {"i": i}, "cache_id": "bench"} for i in range(1000)]


def raw_pgmq(dsn: str, n: int) -> float:
    """send_batch + read(qty=100) + archive(ids[]) on a scratch queue of the same database."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pgmq.create('bench_raw')")
        t0 = time.perf_counter()
        for start in range(0, n, 1000):
            msgs = [f'{{"i": {i}}}' for i in range(start, min(n, start + 1000))]
            conn.execute("SELECT pgmq.send_batch('bench_raw', %s::jsonb[])", (msgs,))
        done = 0
        while done < n:
            ids = [r[0] for r in conn.execute("SELECT msg_id FROM pgmq.read('bench_raw', 30, 100)")]
            if not ids:
                break
            conn.execute("SELECT pgmq.archive('bench_raw', %s::bigint[])", (ids,))
            done += len(ids)
        rate = n / (time.perf_counter() - t0)
        conn.execute("SELECT pgmq.drop_queue('bench_raw')")
    return rate


def submit_all(c: httpx.Client, n: int) -> float:
    """n jobs through the batch API (1,000 per request, two submitters at once); returns the seconds taken."""
    def post(_: int) -> None:
        r = c.post("/api/jobs/batch", json={"jobs": JOBS})
        assert r.status_code == 201, r.text

    t0 = time.perf_counter()
    # Two submitters, as a client with two connections would: one request's validation overlaps
    # the other's database work.
    with ThreadPoolExecutor(max_workers=2) as submitters:
        list(submitters.map(post, range(n // 1000)))
    return time.perf_counter() - t0


def succeeded(db: psycopg.Connection[tuple[int]]) -> int:
    """Jobs succeeded so far, from the status counters (constant time: polling must not load the database)."""
    (n,) = db.execute("SELECT COALESCE(sum(n), 0) FROM job_status_counts WHERE status = 'succeeded'"
                      ).fetchone()  # type: ignore[misc]
    db.commit()
    return int(n)


def wait_all_succeeded(db: psycopg.Connection[tuple[int]], target: int) -> None:
    while succeeded(db) < target:
        time.sleep(0.01)


def end_to_end(stack: Stack, n: int, headers: dict[str, str]) -> tuple[float, float]:
    """Submit while dispatching, until every job succeeded: (jobs/s end to end, seconds of the submit phase)."""
    with httpx.Client(base_url=stack.url, headers=headers, timeout=120) as c, psycopg.connect(stack.dsn) as db:
        c.post("/api/jobs", params={"wait": 10}, json=JOBS[0])  # warm the isolate
        target = succeeded(db) + n
        t0 = time.perf_counter()
        submitted = submit_all(c, n)
        wait_all_succeeded(db, target)
        return n / (time.perf_counter() - t0), submitted


def drain(stack: Stack, n: int, headers: dict[str, str]) -> tuple[float, float]:
    """Submit n jobs with the dispatcher stopped (SIGSTOP), then let it go and time the drain:
    (drain jobs/s, submit-alone jobs/s)."""
    dispatcher = stack.children()["dispatch"]
    with httpx.Client(base_url=stack.url, headers=headers, timeout=120) as c, psycopg.connect(stack.dsn) as db:
        target = succeeded(db) + n
        os.kill(dispatcher, signal.SIGSTOP)
        try:
            submitted = submit_all(c, n)
        finally:
            t0 = time.perf_counter()
            os.kill(dispatcher, signal.SIGCONT)
        wait_all_succeeded(db, target)
        return n / (time.perf_counter() - t0), n / submitted


def idle_latency(url: str, dsn: str, n: int, headers: dict[str, str]) -> list[float]:
    """submit -> succeeded, measured by the database's own clock (created_at -> finished_at)."""
    ids = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
        for i in range(n):
            r = c.post("/api/jobs", params={"wait": 10}, json={"code": "return payload.i", "payload": {"i": i},
                                                               "cache_id": "lat"})
            assert r.json()["status"] == "succeeded", r.text
            ids.append(r.json()["job_id"])
    with psycopg.connect(dsn) as db:
        rows = db.execute("SELECT extract(epoch FROM finished_at - created_at) * 1000 FROM jobs_state"
                          " WHERE job_id = ANY(%s)", (ids,)).fetchall()
    return sorted(float(r[0]) for r in rows)


def figure(name: str, value: float, digits: int = 0) -> None:
    print(f"{name} {value:.{digits}f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--no-peers", action="store_true", help="dymunim only (quicker, but no same-run ratios)")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the stack, e.g. DYMUNIM_READ_BATCH=200")
    args = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in args.env)
    stack = start_stack(Path(tempfile.mkdtemp()), DYMUNIM_VISIBILITY_TIMEOUT_S="30", **env)
    headers = {"Authorization": "Bearer test-token-123"}
    n = args.jobs
    try:
        peers: dict[str, float] = {}
        if not args.no_peers:
            peers |= graphile(stack.dsn, n)
            peers |= pgqueuer(stack.dsn, n)
        raw = raw_pgmq(stack.dsn, n)
        figure("raw_pgmq_send_read_archive_msgs_per_s", raw)
        e2e, submit_phase = end_to_end(stack, n, headers)
        figure("dymunim_end_to_end_jobs_per_s", e2e)
        figure("dymunim_end_to_end_submit_phase_s", submit_phase, 2)
        drained, submit_alone = drain(stack, n, headers)
        figure("dymunim_drain_jobs_per_s", drained)
        figure("dymunim_submit_alone_jobs_per_s", submit_alone)
        figure("dymunim_submit_over_drain_ratio", submit_alone / drained, 2)
        lat = idle_latency(stack.url, stack.dsn, 200, headers)
        p50, p99 = statistics.median(lat), lat[int(len(lat) * 0.99) - 1]
        figure("dymunim_idle_p50_ms", p50, 1)
        figure("dymunim_idle_p99_ms", p99, 1)
        figure("dymunim_end_to_end_over_raw_pgmq_ratio", e2e / raw, 3)
        if "graphile_drain_jobs_per_s" in peers:
            g = peers["graphile_drain_jobs_per_s"]
            figure("dymunim_end_to_end_over_graphile_drain_ratio", e2e / g, 2)
            figure("dymunim_drain_over_graphile_drain_ratio", drained / g, 2)
            figure("dymunim_idle_p50_over_graphile_ratio", p50 / peers["graphile_idle_p50_ms"], 2)
            figure("dymunim_idle_p99_over_graphile_ratio", p99 / peers["graphile_idle_p99_ms"], 2)
        if "pgqueuer_drain_jobs_per_s" in peers:
            figure("dymunim_end_to_end_over_pgqueuer_drain_ratio", e2e / peers["pgqueuer_drain_jobs_per_s"], 2)
    finally:
        stop_stack_proc(stack.proc)


if __name__ == "__main__":
    main()
