"""Blame the culprit, not the bystanders.

Every job in flight on a killed process gets a strike and runs again elsewhere, without counting
an attempt. A job with two strikes runs alone in the quarantine process: if it takes that process
down too, it is the culprit and fails (timeout or out-of-memory); if it finishes, it was innocent.
An innocent job therefore never ends `failed` because of a neighbour.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any

from dymunim.execute.contract import Outcome
from dymunim.execute.pool import KillReason, Pool, ProcessKilled, Slot

log = logging.getLogger(__name__)

QUARANTINE_AFTER = 2


def culprit_outcome(reason: KillReason, job: dict[str, Any], max_rss_mb: int) -> Outcome:
    timeout = int(job.get("timeout_ms") or 30_000)
    if reason == "memory":
        error = {
            "name": "OutOfMemoryError",
            "message": f"the job used more than {max_rss_mb} MiB (DYMUNIM_EXECUTOR_MAX_RSS_MB); "
            "its process was stopped",
        }
    elif reason == "deadline":
        error = {"name": "TimeoutError", "message": f"exceeded {timeout} ms"}
    else:
        error = {"name": "ExecutorCrash", "message": "the executor process crashed while running this job alone"}
    return {
        "ok": False,
        "result": None,
        "error": {**error, "stack": None},  # type: ignore[typeddict-item]
        "logs": [],
        "logs_truncated": False,
        "duration_ms": float(timeout),
        "cold": True,
    }


def isolate_key(job: dict[str, Any]) -> str:
    return f"{job.get('cache_id')}:{hashlib.sha256(str(job['code']).encode()).hexdigest()}"


async def run_one(pool: Pool, job: dict[str, Any], *, strikes: int = 0, avoid: set[int] | None = None) -> Outcome:
    avoid = set(avoid or ())
    path = "/get" if job.get("cache_id") else "/load"
    timeout = int(job.get("timeout_ms") or 30_000)
    while strikes < QUARANTINE_AFTER:
        slot = pool.pick(job.get("cache_id"), avoid)
        try:
            out: Outcome = await pool.post(slot, path, job, timeout)
        except ProcessKilled:
            strikes += 1
            avoid.add(slot.index)
            continue
        if job.get("cache_id"):
            pool.note_isolate(slot, isolate_key(job))
        return out
    return await _quarantined(pool, job, path, timeout)


async def _quarantined(pool: Pool, job: dict[str, Any], path: str, timeout: int) -> Outcome:
    async with pool.quarantine_lock:
        slot = await pool.ensure_quarantine()
        try:
            out: Outcome = await pool.post(slot, path, job, timeout)
            return out
        except ProcessKilled as killed:
            log.warning("job %s is the culprit (%s)", job.get("job_id"), killed.reason)
            return culprit_outcome(killed.reason, job, pool.max_rss // 2**20)


async def run_batch(pool: Pool, jobs: list[dict[str, Any]]) -> list[Outcome]:
    """Split by home process, one /batch call per process; a killed sub-batch falls back to run_one."""
    groups: dict[int, tuple[Slot, list[int]]] = {}
    for i, job in enumerate(jobs):
        slot = pool.pick(job.get("cache_id"))
        groups.setdefault(slot.index, (slot, []))[1].append(i)
    results: list[Outcome | None] = [None] * len(jobs)

    async def one_group(slot: Slot, idx: list[int]) -> None:
        sub = [jobs[i] for i in idx]
        timeout = min(int(j.get("timeout_ms") or 30_000) for j in sub)
        try:
            body = await pool.post(slot, "/batch", {"jobs": sub}, timeout)
            for i, out in zip(idx, body["results"], strict=True):
                results[i] = out
                if jobs[i].get("cache_id"):
                    pool.note_isolate(slot, isolate_key(jobs[i]))
        except ProcessKilled:
            outs = await asyncio.gather(*(run_one(pool, jobs[i], strikes=1, avoid={slot.index}) for i in idx))
            for i, out in zip(idx, outs, strict=True):
                results[i] = out

    await asyncio.gather(*(one_group(s, idx) for s, idx in groups.values()))
    return [r for r in results if r is not None]
