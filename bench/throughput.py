"""End-to-end throughput and idle latency on the embedded stack (`dymunim up`), next to raw pgmq.

Prints one line per figure. Run: .venv/bin/python bench/throughput.py [--jobs 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import start_stack, stop_stack_proc


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


def end_to_end(url: str, dsn: str, n: int, headers: dict[str, str]) -> float:
    jobs = [{"code": "return payload.i + 1", "payload": {"i": i}, "cache_id": "bench"} for i in range(1000)]
    with httpx.Client(base_url=url, headers=headers, timeout=120) as c, psycopg.connect(dsn) as db:
        c.post("/api/jobs", params={"wait": 10}, json=jobs[0])  # warm the isolate
        first = db.execute("SELECT COALESCE(max(job_id), 0) FROM jobs_state").fetchone()[0]  # type: ignore[index]
        t0 = time.perf_counter()
        def post(_: int) -> None:
            r = c.post("/api/jobs/batch", json={"jobs": jobs})
            assert r.status_code == 201, r.text

        # Two submitters, as a client with two connections would: one request's validation overlaps
        # the other's database work.
        with ThreadPoolExecutor(max_workers=2) as submitters:
            list(submitters.map(post, range(n // 1000)))
        submitted = time.perf_counter() - t0
        while True:
            (left,) = db.execute(
                "SELECT count(*) FROM jobs_state WHERE job_id > %s AND status <> 'succeeded'", (first,)
            ).fetchone()  # type: ignore[misc]
            db.commit()
            if left == 0:
                break
            time.sleep(0.05)
        total = time.perf_counter() - t0
        print(f"end_to_end_submit_phase_s {submitted:.2f} (of {total:.2f} s; submit alone {n / submitted:.0f} jobs/s)")
        return n / total


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the stack, e.g. DYMUNIM_READ_BATCH=200")
    args = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in args.env)
    stack = start_stack(Path(tempfile.mkdtemp()), DYMUNIM_VISIBILITY_TIMEOUT_S="30", **env)
    headers = {"Authorization": "Bearer test-token-123"}
    try:
        raw = raw_pgmq(stack.dsn, args.jobs)
        print(f"raw_pgmq_send_read_archive_msgs_per_s {raw:.0f}", flush=True)
        e2e = end_to_end(stack.url, stack.dsn, args.jobs, headers)
        print(f"end_to_end_jobs_per_s {e2e:.0f}", flush=True)
        print(f"end_to_end_over_raw_pgmq_ratio {e2e / raw:.3f}", flush=True)
        lat = idle_latency(stack.url, stack.dsn, 200, headers)
        print(f"idle_latency_p50_ms {statistics.median(lat):.1f}")
        print(f"idle_latency_p99_ms {lat[int(len(lat) * 0.99) - 1]:.1f}")
    finally:
        stop_stack_proc(stack.proc)


if __name__ == "__main__":
    main()
