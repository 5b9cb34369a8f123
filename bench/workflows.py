"""Durable workflows: what a step costs, beside the peers in the same run.

One Postgres, one run: Graphile Worker 0.17.3 and pgqueuer 1.6.0 (bench/peers.py, each in its own database on
the same server), then dymunim on the embedded stack (`dymunim up`):
  - steps/s: --runs runs of a 10-step no-op workflow (`step.do` returning a number) submitted at once with the
    dispatcher stopped, then drained; steps/s = 10 * runs / elapsed. Beside it, the same number of plain no-op
    jobs drained the same way (what one step would cost if it were a job of its own), and the peers' drains
    of plain no-op jobs (a step does what a job does: a claim, a run, a record).
  - per-step overhead: --idle runs of the same workflow one after the other on an idle system; each step's
    cost is the time between two consecutive steps being recorded (job_steps.finished_at, the database's
    clock): record, new message, claim, replay, run, record. Beside it, Graphile's idle add -> ran latency.
Each call replays the run from the top and runs one new step, so a run of k steps is k calls (the last step's
call also returns the run's result). Only same-run ratios mean anything.

Prints one line per figure. Run: .venv/bin/python bench/workflows.py [--runs 1000] [--idle 30] [--no-peers]
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.peers import graphile, percentile, pgqueuer
from bench.throughput import figure, succeeded, wait_all_succeeded
from tests.conftest import Stack, start_stack, stop_stack_proc

STEPS = 10
WORKFLOW = "export default { async run(event, step) { let v = 0;\n" + "".join(
    f"  v = await step.do('s{i}', async () => v + 1);\n" for i in range(STEPS)) + "  return v; } }"
PLAIN = "return payload.i + 1"
HEADERS = {"Authorization": "Bearer test-token-123"}


def submit(c: httpx.Client, jobs: list[dict[str, object]]) -> list[int]:
    ids: list[int] = []
    for k in range(0, len(jobs), 1000):
        r = c.post("/api/jobs/batch", json={"jobs": jobs[k:k + 1000]})
        assert r.status_code == 201, r.text
        ids += r.json()["ids"]
    return ids


def drained(stack: Stack, jobs: list[dict[str, object]]) -> float:
    """Submit with the dispatcher stopped, then time the drain until every job succeeded (seconds)."""
    dispatcher = stack.children()["dispatch"]
    with httpx.Client(base_url=stack.url, headers=HEADERS, timeout=120) as c, psycopg.connect(stack.dsn) as db:
        target = succeeded(db) + len(jobs)
        os.kill(dispatcher, signal.SIGSTOP)
        try:
            submit(c, jobs)
        finally:
            t0 = time.perf_counter()
            os.kill(dispatcher, signal.SIGCONT)
        wait_all_succeeded(db, target)
        return time.perf_counter() - t0


def step_gaps(stack: Stack, runs: int) -> list[float]:
    """Runs one at a time on an idle system; the ms between consecutive steps' records, all runs together."""
    gaps: list[float] = []
    with httpx.Client(base_url=stack.url, headers=HEADERS, timeout=120) as c, psycopg.connect(stack.dsn) as db:
        for _ in range(runs):
            r = c.post("/api/jobs", params={"wait": 30}, json={"code": WORKFLOW, "cache_id": "wf-idle"})
            assert r.json()["status"] == "succeeded", r.text
            rows = db.execute("SELECT extract(epoch FROM finished_at) * 1000 FROM job_steps WHERE job_id = %s"
                              " ORDER BY seq", (r.json()["job_id"],)).fetchall()
            db.commit()
            at = [float(x[0]) for x in rows]
            assert len(at) == STEPS
            gaps += [b - a for a, b in itertools.pairwise(at)]
    return sorted(gaps)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000, help="workflow runs drained at once (10 steps each)")
    ap.add_argument("--idle", type=int, default=30, help="runs one at a time for the per-step overhead")
    ap.add_argument("--no-peers", action="store_true", help="dymunim only (quicker, but no same-run ratios)")
    args = ap.parse_args()
    stack = start_stack(Path(tempfile.mkdtemp()), DYMUNIM_VISIBILITY_TIMEOUT_S="30")
    steps = STEPS * args.runs
    try:
        peers: dict[str, float] = {}
        if not args.no_peers:
            peers |= graphile(stack.dsn, steps)
            peers |= pgqueuer(stack.dsn, steps)
        with httpx.Client(base_url=stack.url, headers=HEADERS, timeout=60) as c:  # warm both isolates
            c.post("/api/jobs", params={"wait": 30}, json={"code": WORKFLOW, "cache_id": "wf"})
            c.post("/api/jobs", params={"wait": 30}, json={"code": PLAIN, "payload": {"i": 0}, "cache_id": "plain"})
        wf_s = drained(stack, [{"code": WORKFLOW, "cache_id": "wf"} for _ in range(args.runs)])
        per_s = steps / wf_s
        figure("dymunim_workflow_steps_per_s", per_s)
        figure("dymunim_workflow_runs_per_s", args.runs / wf_s, 1)
        plain_s = drained(stack, [{"code": PLAIN, "payload": {"i": i}, "cache_id": "plain"} for i in range(steps)])
        figure("dymunim_plain_jobs_per_s", steps / plain_s)
        figure("dymunim_steps_over_plain_jobs_ratio", per_s / (steps / plain_s), 2)
        gaps = step_gaps(stack, args.idle)
        p50, p99 = statistics.median(gaps), percentile(gaps, 0.99)
        figure("dymunim_step_overhead_p50_ms", p50, 1)
        figure("dymunim_step_overhead_p99_ms", p99, 1)
        if "graphile_drain_jobs_per_s" in peers:
            figure("dymunim_steps_over_graphile_drain_ratio", per_s / peers["graphile_drain_jobs_per_s"], 2)
            figure("dymunim_step_p50_over_graphile_idle_p50_ratio", p50 / peers["graphile_idle_p50_ms"], 2)
            figure("dymunim_step_p99_over_graphile_idle_p99_ratio", p99 / peers["graphile_idle_p99_ms"], 2)
        if "pgqueuer_drain_jobs_per_s" in peers:
            figure("dymunim_steps_over_pgqueuer_drain_ratio", per_s / peers["pgqueuer_drain_jobs_per_s"], 2)
    finally:
        stop_stack_proc(stack.proc)


if __name__ == "__main__":
    main()
