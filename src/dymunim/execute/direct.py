"""Warm jobs go straight to the workerd process that keeps their isolate; the supervisor only watches.

Through the supervisor, a warm call paid one more HTTP hop in Python (+40% over workerd alone). A
local dispatcher asks the supervisor for its pool (GET /pool: each process's address and the token)
and posts batches of jobs with a cache id to their home process itself, the one `Pool.pick` would
choose. The supervisor keeps every duty but the hop: it kills a process over its memory limit, and
one a direct call reports past its deadline (POST /pool/check) if /health no longer answers.

Everything unusual goes through the supervisor, whose blame logic decides: a call with one-off code
(no cache id: the supervisor spreads it away from the call's warm jobs, since a runaway loop freezes
the whole process it lands on), a pool it cannot see (a remote executor has no /pool), a home process
that is not ready, and every job a direct call left without an outcome, sent with one strike and the
process to avoid, so a culprit still ends in quarantine within three runs (dispatcher.py ATTEMPT_RUNS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from dataclasses import dataclass
from typing import Any

import aiohttp

from dymunim.execute.client import BatchEnd, ExecutorClient, OnOutcome
from dymunim.execute.contract import JOB_DEFAULTS, ExecJob, ExecutorUnavailable

log = logging.getLogger(__name__)

POOL_TTL_S = 1.0  # how long a pool table is trusted; any failed direct call forgets it at once
CHECK_GRACE_S = 0.75  # past a call's deadline before the supervisor is asked to check its process


@dataclass(frozen=True)
class _Process:
    index: int
    url: str
    ready: bool


class DirectExecutor:
    """ExecutorClient's run_batch, with warm jobs sent straight to their workerd process."""

    def __init__(self, supervisor: ExecutorClient) -> None:
        self.supervisor = supervisor
        self._token = ""
        self._procs: list[_Process] = []
        self._fetched = 0.0
        self._unsupported = False  # the executor has no /pool (a remote one): always through it
        self._clients: dict[tuple[str, str], ExecutorClient] = {}

    async def aclose(self) -> None:
        for c in self._clients.values():
            await c.aclose()
        await self.supervisor.aclose()

    async def _pool(self) -> list[_Process]:
        if self._unsupported:
            return []
        if time.monotonic() - self._fetched < POOL_TTL_S:
            return self._procs
        try:
            status, body = await self.supervisor.call("GET", "/pool")
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return []
        if status in (401, 403, 404, 405):
            log.info("the executor offers no pool to call directly (HTTP %d): every job goes through it", status)
            self._unsupported = True
            return []
        if status != 200 or not isinstance(body, dict):
            return []
        self._token = str(body.get("token", ""))
        self._procs = [_Process(int(p["index"]), str(p["url"]), bool(p["ready"])) for p in body["processes"]]
        self._fetched = time.monotonic()
        current = {(p.url, self._token) for p in self._procs}
        for key in [k for k in self._clients if k not in current]:  # a replaced process's connections
            await self._clients.pop(key).aclose()
        return self._procs

    def _forget(self) -> None:
        self._fetched = 0.0

    def _client(self, url: str) -> ExecutorClient:
        key = (url, self._token)
        if key not in self._clients:
            self._clients[key] = ExecutorClient(url, self._token)
        return self._clients[key]

    async def run_batch(self, jobs: list[ExecJob], on_outcome: OnOutcome) -> BatchEnd:
        if not all(j.get("cache_id") for j in jobs):
            # One-off code in the call: the supervisor places it away from the warm jobs it shares the
            # call with (a runaway loop freezes the whole process it lands on), so they all go there.
            return await self.supervisor.run_batch(jobs, on_outcome)
        procs = await self._pool()
        homes: dict[int, list[int]] = {}
        rest: list[int] = []
        for i, job in enumerate(jobs):
            cache_id = job.get("cache_id")
            home = procs[zlib.crc32(cache_id.encode()) % len(procs)] if cache_id and procs else None
            if home is not None and home.ready:
                homes.setdefault(home.index, []).append(i)
            else:
                rest.append(i)
        calls = [self._direct(procs[index], [jobs[i] for i in idx], idx, on_outcome) for index, idx in homes.items()]
        if rest:
            calls.append(self._through(jobs, rest, on_outcome))
        if len(calls) == 1:  # the usual case (one cache id per call): no gather, no extra task
            return await calls[0]
        missing: list[int] = []
        errors: list[str] = []
        for end in await asyncio.gather(*calls):
            missing += end.missing
            if end.error:
                errors.append(end.error)
        return BatchEnd(sorted(missing), "; ".join(errors) or None)

    async def _through(self, jobs: list[ExecJob], idx: list[int], on_outcome: OnOutcome,
                       headers: dict[str, str] | None = None) -> BatchEnd:
        """Jobs jobs[idx] through the supervisor; missing indices are the batch's."""
        def deliver(k: int, obj: Any, lenient: bool) -> None:
            on_outcome(idx[k], obj, lenient)

        try:
            end = await self.supervisor.run_batch([jobs[i] for i in idx], deliver, headers=headers)
        except ExecutorUnavailable as exc:
            return BatchEnd(idx, str(exc))
        return BatchEnd([idx[k] for k in end.missing], end.error)

    async def _direct(self, proc: _Process, sub: list[ExecJob], idx: list[int], on_outcome: OnOutcome) -> BatchEnd:
        answered: set[int] = set()

        def deliver(k: int, obj: Any, lenient: bool) -> None:
            answered.add(k)
            on_outcome(idx[k], obj, lenient)

        deadline_s = min(int(j.get("timeout_ms") or JOB_DEFAULTS["timeout_ms"]) for j in sub) / 1000
        # A timer, not a task per call: most calls end long before their deadline.
        checks: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            deadline_s + CHECK_GRACE_S, lambda: checks.append(asyncio.ensure_future(self._check(proc))))
        try:
            end = await self._client(proc.url).run_batch(sub, deliver)
            left, why = end.missing, end.error
        except ExecutorUnavailable as exc:
            left, why = [k for k in range(len(sub)) if k not in answered], str(exc)
        finally:
            timer.cancel()
            for check in checks:
                check.cancel()
        if not left:
            return BatchEnd([], None)
        self._forget()
        log.warning("workerd %d left %d of %d jobs without an outcome (%s); they go through the supervisor "
                    "with a strike", proc.index, len(left), len(sub), why)
        again = await self._through(sub, left, lambda k, obj, lenient: on_outcome(idx[k], obj, lenient),
                                    {"X-Dymunim-Strikes": "1", "X-Dymunim-Avoid": str(proc.index)})
        return BatchEnd([idx[k] for k in again.missing], again.error)

    async def _check(self, proc: _Process) -> None:
        """A call still running past its deadline: the supervisor kills the process if it froze."""
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                status, body = await self.supervisor.call("POST", "/pool/check", {"index": proc.index})
                if status == 200 and isinstance(body, dict) and body.get("killed"):
                    log.warning("workerd %d froze past a direct call's deadline; the supervisor killed it", proc.index)
                    return
            await asyncio.sleep(1.0)
