"""Table growth while a transaction pins Postgres's xmin horizon, under a steady load of trivial jobs.

A forgotten `BEGIN` (a pg_dump, a long report, an idle replication slot) keeps vacuum from removing
any dead row version newer than its snapshot. This runs a fixed rate of jobs through the whole stack
for --minutes, opens an idle-in-transaction session holding an XID for --pin-s in the middle, and
prints the size and dead tuples of every hot table before the pin, at its end, and at the end of the
run (after the horizon was released and autovacuum had its turn), plus the submit -> succeeded
latency of each phase. Prints one line per figure.

Run: .venv/bin/python bench/horizon.py [--minutes 10] [--pin-s 60] [--rate 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import start_stack, stop_stack_proc

HOT = ("jobs_state", "job_events", "job_attempts", "job_status_counts", "job_minute_outcomes",
       "job_minute_latency", "pgmq.q_jobs", "pgmq.a_jobs")
BATCH = 100
JOBS = [{"code": "return payload.i + 1", "payload": {"i": i}, "cache_id": "horizon"} for i in range(BATCH)]


def tables(dsn: str, phase: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as db:
        for name in HOT:
            schema, _, rel = name.rpartition(".")
            row = db.execute(
                "SELECT pg_total_relation_size(c.oid), COALESCE(s.n_dead_tup, 0), COALESCE(s.n_live_tup, 0)"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
                " WHERE n.nspname = %s AND c.relname = %s", (schema or "public", rel)).fetchone()
            if row is None:
                continue
            size, dead, live = row
            print(f"{phase}_{rel}_kb {size // 1024}", flush=True)
            print(f"{phase}_{rel}_dead_tuples {dead} (live {live})", flush=True)


def latency(dsn: str, since: float, until: float) -> list[float]:
    """submit -> succeeded (database clock) of the jobs created in [since, until) (epoch seconds)."""
    with psycopg.connect(dsn, autocommit=True) as db:
        rows = db.execute(
            "SELECT extract(epoch FROM finished_at - created_at) * 1000 FROM jobs_state"
            " WHERE created_at >= to_timestamp(%s) AND created_at < to_timestamp(%s) AND status = 'succeeded'",
            (since, until)).fetchall()
    return sorted(float(r[0]) for r in rows)


def report_latency(phase: str, ms: list[float]) -> None:
    if not ms:
        print(f"{phase}_jobs 0")
        return
    print(f"{phase}_jobs {len(ms)}")
    print(f"{phase}_latency_p50_ms {statistics.median(ms):.1f}")
    print(f"{phase}_latency_p99_ms {ms[max(0, int(len(ms) * 0.99) - 1)]:.1f}", flush=True)


def load(url: str, rate: float, stop: threading.Event) -> None:
    """BATCH jobs every BATCH/rate seconds until stopped (a fixed rate, not as fast as possible)."""
    period = BATCH / rate
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer test-token-123"}, timeout=60) as c:
        next_at = time.monotonic()
        while not stop.is_set():
            r = c.post("/api/jobs/batch", json={"jobs": JOBS})
            assert r.status_code == 201, r.text
            next_at += period
            time.sleep(max(0.0, next_at - time.monotonic()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--pin-s", type=float, default=60)
    ap.add_argument("--rate", type=float, default=1000, help="jobs per second")
    args = ap.parse_args()
    total = args.minutes * 60
    before = (total - args.pin_s) / 2
    stack = start_stack(Path(tempfile.mkdtemp()), DYMUNIM_VISIBILITY_TIMEOUT_S="30")
    stop = threading.Event()
    loader = threading.Thread(target=load, args=(stack.url, args.rate, stop), daemon=True)
    try:
        t0 = time.time()
        loader.start()
        time.sleep(before)
        tables(stack.dsn, "before_pin")
        pin_start = time.time()
        with psycopg.connect(stack.dsn) as pin:
            pin.execute("SELECT txid_current()")  # holds an XID: idle in transaction from here on
            time.sleep(args.pin_s)
            tables(stack.dsn, "end_of_pin")
            pin.rollback()
        pin_end = time.time()
        time.sleep(max(0.0, total - (time.time() - t0)))
        stop.set()
        loader.join()
        time.sleep(5)
        tables(stack.dsn, "end_of_run")
        report_latency("before_pin", latency(stack.dsn, t0 + 5, pin_start))
        report_latency("during_pin", latency(stack.dsn, pin_start, pin_end))
        report_latency("after_pin", latency(stack.dsn, pin_end, time.time() - 10))
    finally:
        stop.set()
        stop_stack_proc(stack.proc)


if __name__ == "__main__":
    main()
