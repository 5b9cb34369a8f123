"""Blame the culprit, not the bystanders.

Every job in flight on a killed process gets a strike and runs again elsewhere, without counting
an attempt. A job with two strikes runs alone in the quarantine process: if it takes that process
down too, it is the culprit and fails (timeout or out-of-memory); if it finishes, it was innocent.
An innocent job therefore never ends `failed` because of a neighbour.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

import orjson

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


def dumps(obj: Any) -> bytes:
    """JSON bytes: orjson, or the standard library for what orjson refuses (integers over 64 bits)."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj).encode()


async def run_one(
    pool: Pool, job: dict[str, Any], raw: bytes | None = None, *, strikes: int = 0, avoid: set[int] | None = None
) -> bytes:
    """Runs one job and returns its Outcome as JSON bytes. `raw`: the job's JSON as received, sent on untouched."""
    avoid = set(avoid or ())
    path = "/get" if job.get("cache_id") else "/load"
    timeout = int(job.get("timeout_ms") or 30_000)
    body = dumps(job) if raw is None else raw
    while strikes < QUARANTINE_AFTER:
        slot = pool.pick(job.get("cache_id"), avoid)
        try:
            out = await pool.post(slot, path, body, timeout)
        except ProcessKilled:
            strikes += 1
            avoid.add(slot.index)
            continue
        if job.get("cache_id"):
            pool.note_isolate(slot, isolate_key(job))
        return out
    return await _quarantined(pool, job, path, body, timeout)


async def _quarantined(pool: Pool, job: dict[str, Any], path: str, body: bytes, timeout: int) -> bytes:
    async with pool.quarantine_lock:
        slot = await pool.ensure_quarantine()
        try:
            return await pool.post(slot, path, body, timeout)
        except ProcessKilled as killed:
            log.warning("job %s is the culprit (%s)", job.get("job_id"), killed.reason)
            return dumps(culprit_outcome(killed.reason, job, pool.max_rss // 2**20))


async def run_batch(pool: Pool, jobs: list[dict[str, Any]], raw: bytes | None = None) -> bytes:
    """Split by home process, one /batch call per process; a killed sub-batch falls back to run_one.

    Returns `{"results": [...]}` as JSON bytes. When every job goes to one process, `raw` (the
    request body as received) is sent and the answer returned without decoding either.
    """
    groups: dict[int, tuple[Slot, list[int]]] = {}
    homes: dict[Any, Slot] = {}  # cache_id -> slot: jobs of a batch mostly share a few cache ids
    for i, job in enumerate(jobs):
        cache_id = job.get("cache_id")
        slot = homes.get(cache_id) if cache_id else None
        if slot is None:
            slot = homes[cache_id] = pool.pick(cache_id)
        groups.setdefault(slot.index, (slot, []))[1].append(i)
    whole = len(groups) == 1 and raw is not None
    parts: dict[int, bytes] = {}  # first index of a sub-batch -> its {"results": [...]} bytes
    results: list[Any] = [None] * len(jobs)

    async def one_group(slot: Slot, idx: list[int]) -> None:
        sub = [jobs[i] for i in idx]
        timeout = min(int(j.get("timeout_ms") or 30_000) for j in sub)
        try:
            body = raw if whole and raw is not None else dumps({"jobs": sub})
            parts[idx[0]] = await pool.post(slot, "/batch", body, timeout)
            isolates = {(j["cache_id"], j["code"]) for j in sub if j.get("cache_id")}
            for cache_id, code in isolates:
                pool.note_isolate(slot, isolate_key({"cache_id": cache_id, "code": code}))
        except ProcessKilled:
            outs = await asyncio.gather(*(run_one(pool, jobs[i], strikes=1, avoid={slot.index}) for i in idx))
            for i, out in zip(idx, outs, strict=True):
                results[i] = orjson.loads(out)

    await asyncio.gather(*(one_group(s, idx) for s, idx in groups.values()))
    if whole and parts:
        return next(iter(parts.values()))
    for _slot, idx in groups.values():
        if idx[0] in parts:
            for i, out in zip(idx, orjson.loads(parts[idx[0]])["results"], strict=True):
                results[i] = out
    return dumps({"results": results})
