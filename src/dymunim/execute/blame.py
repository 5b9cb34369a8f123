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
import time
from collections.abc import Callable
from typing import Any

from dymunim.execute.contract import JOB_DEFAULTS, Outcome
from dymunim.execute.pool import KillReason, Pool, ProcessKilled, Slot
from dymunim.jsonbytes import dumps

log = logging.getLogger(__name__)

QUARANTINE_AFTER = 2


def culprit_outcome(reason: KillReason, job: dict[str, Any], max_rss_mb: int, duration_ms: float) -> Outcome:
    timeout = int(job.get("timeout_ms") or JOB_DEFAULTS["timeout_ms"])
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
        "duration_ms": round(duration_ms, 1),  # until its process was stopped, not the timeout it was given
        "cold": True,
    }


def isolate_key(job: dict[str, Any]) -> str:
    return f"{job.get('cache_id')}:{hashlib.sha256(str(job['code']).encode()).hexdigest()}"


async def run_one(
    pool: Pool, job: dict[str, Any], raw: bytes | None = None, *, strikes: int = 0, avoid: set[int] | None = None
) -> bytes:
    """Runs one job and returns its Outcome as JSON bytes. `raw`: the job's JSON as received, sent on untouched."""
    avoid = set(avoid or ())
    path = "/get" if job.get("cache_id") else "/load"
    timeout = int(job.get("timeout_ms") or JOB_DEFAULTS["timeout_ms"])
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
        started = time.monotonic()
        try:
            return await pool.post(slot, path, body, timeout)
        except ProcessKilled as killed:
            log.warning("job %s is the culprit (%s)", job.get("job_id"), killed.reason)
            elapsed_ms = (time.monotonic() - started) * 1000
            return dumps(culprit_outcome(killed.reason, job, pool.max_rss // 2**20, elapsed_ms))


def _minority(sub: list[dict[str, Any]], rest: list[int]) -> set[int]:
    """Of the jobs a killed process had not answered, those whose code is not the most common one."""
    by_code: dict[tuple[Any, Any], list[int]] = {}
    for k in rest:
        by_code.setdefault((sub[k].get("cache_id"), sub[k]["code"]), []).append(k)
    if len(by_code) < 2:
        return set()
    bulk = max(by_code.values(), key=len)
    return {k for k in rest if k not in set(bulk)}


Emit = Callable[[int, bytes], None]
"""Takes a job's index in the batch and its Outcome JSON bytes, as soon as the job has one."""

_INDEX = b'{"index":'


def _split_line(line: bytes) -> tuple[int, bytes] | None:
    """(index, outcome bytes) of one NDJSON line of the Worker's /batch: `{"index":K,…outcome fields}`."""
    comma = line.find(b",", len(_INDEX))
    if not line.startswith(_INDEX) or comma < 0:
        return None
    try:
        return int(line[len(_INDEX) : comma]), b"{" + line[comma + 1 :]
    except ValueError:
        return None


async def run_batch(pool: Pool, jobs: list[dict[str, Any]], emit: Emit, raw: bytes | None = None, *,
                    strikes: int = 0, avoid: set[int] | None = None) -> None:
    """Split by home process, one streamed /batch call per process; emit each outcome as it arrives.

    If a process is killed, the jobs that had already answered keep their outcomes and only the
    others run again (run_one, one strike each). When every job goes to one process, `raw` (the
    request body as received) is sent without re-encoding. Jobs that already have `strikes` (a
    dispatcher's direct call to process `avoid` left them without an outcome) each run on their own
    with those strikes, so a culprit still ends in quarantine within three runs.
    """
    if strikes:
        async def one(i: int) -> None:
            emit(i, await run_one(pool, jobs[i], strikes=strikes, avoid=avoid))

        await asyncio.gather(*(one(i) for i in range(len(jobs))))
        return
    groups: dict[int, tuple[Slot, list[int]]] = {}
    homes: dict[Any, Slot] = {}  # cache_id -> slot: jobs of a batch mostly share a few cache ids
    fresh: list[int] = []
    for i, job in enumerate(jobs):
        cache_id = job.get("cache_id")
        if not cache_id:
            fresh.append(i)
            continue
        slot = homes.get(cache_id)
        if slot is None:
            slot = homes[cache_id] = pool.pick(cache_id)
        groups.setdefault(slot.index, (slot, []))[1].append(i)
    for i in fresh:
        # One-off code goes where this batch has put the least, not all on one process: a runaway
        # loop freezes only the process it runs on, so the warm groups elsewhere answer at once.
        slot = pool.pick(None, load={ix: len(g[1]) for ix, g in groups.items()})
        groups.setdefault(slot.index, (slot, []))[1].append(i)
    whole = len(groups) == 1 and raw is not None

    async def one_group(slot: Slot, idx: list[int]) -> None:
        sub = [jobs[i] for i in idx]
        answered: set[int] = set()

        def line(data: bytes) -> None:
            got = _split_line(data)
            if got is None or not 0 <= got[0] < len(idx) or got[0] in answered:
                log.error("workerd %d sent a line that is not an outcome: %r", slot.index, data[:200])
                return
            answered.add(got[0])
            emit(idx[got[0]], got[1])

        timeout = min(int(j.get("timeout_ms") or JOB_DEFAULTS["timeout_ms"]) for j in sub)
        killed = False
        try:
            body = raw if whole and raw is not None else dumps({"jobs": sub})
            await pool.post(slot, "/batch", body, timeout, lines=line)
            isolates = {(j["cache_id"], j["code"]) for j in sub if j.get("cache_id")}
            for cache_id, code in isolates:
                pool.note_isolate(slot, isolate_key({"cache_id": cache_id, "code": code}))
        except ProcessKilled:
            killed = True
        rest = [k for k in range(len(idx)) if k not in answered]
        suspects = _minority(sub, rest) if killed else set()

        async def again(k: int) -> None:
            # The bulk of a killed call runs again elsewhere with a strike; the rarer code that shared
            # the process goes straight to quarantine, so the culprit cannot freeze the bulk twice.
            strikes = QUARANTINE_AFTER if k in suspects else int(killed)
            emit(idx[k], await run_one(pool, sub[k], strikes=strikes, avoid={slot.index} if killed else None))

        await asyncio.gather(*(again(k) for k in rest))

    await asyncio.gather(*(one_group(s, idx) for s, idx in groups.values()))
