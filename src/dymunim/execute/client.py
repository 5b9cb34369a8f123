"""HTTP client for an executor (the local supervisor or the Worker on Cloudflare)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from dymunim.execute.contract import JOB_DEFAULTS, ExecJob, ExecutorUnavailable
from dymunim.jsonbytes import dumps, loads_flagged

log = logging.getLogger(__name__)

# Time the stream may stay silent beyond the longest job's own deadline: the executor answers a
# timed-out job itself, so this only catches an executor that stopped answering at all.
_SLACK_S = 10.0

OnOutcome = Callable[[int, Any, bool], None]
"""Takes a job's index in the batch, its Outcome as parsed (still unchecked: see record/checks.py),
and whether its text may hold unpaired surrogates (only when orjson, which refuses them, could not parse it)."""


class Executor(Protocol):
    """What a dispatcher needs of an executor: ExecutorClient, or DirectExecutor in front of a local pool."""

    async def run_batch(self, jobs: list[ExecJob], on_outcome: OnOutcome) -> BatchEnd: ...


@dataclass(frozen=True)
class BatchEnd:
    missing: list[int]  # indices with no outcome: the executor never said how they ended
    error: str | None  # why the stream ended early, if it did


def parse_line(line: bytes) -> tuple[Any, bool]:
    """(value, lenient): `lenient` says the standard library parsed it (orjson refused it: unpaired
    surrogates), so its strings must be checked. NaN and Infinity are read, as ever."""
    return loads_flagged(line, constants=True)


class ExecutorClient:
    def __init__(self, base_url: str, token: str | None, *, max_connections: int = 64) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Created on first use: an aiohttp session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=self._max_connections, keepalive_timeout=30),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def run_batch(self, jobs: list[ExecJob], on_outcome: OnOutcome,
                        headers: dict[str, str] | None = None) -> BatchEnd:
        """POST /batch and hand each job's outcome to `on_outcome` as its NDJSON line arrives.

        Never raises for a broken executor: what did not arrive is in `missing`, with the reason,
        so the outcomes that did arrive are kept. Raises ExecutorUnavailable only when the executor
        refused the whole call (down, 5xx, 401, a 4xx contract error): then none of them ran.
        """
        seen: set[int] = set()
        default_ms = JOB_DEFAULTS["timeout_ms"]
        longest_s = max((j.get("timeout_ms", default_ms) for j in jobs), default=default_ms) / 1000
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=longest_s + _SLACK_S)
        url = f"{self.base_url}/batch"
        error: str | None = None
        try:
            async with self._http().post(url, data=dumps({"jobs": jobs}), timeout=timeout,
                                         headers={"content-type": "application/json", **(headers or {})}) as resp:
                if resp.status != 200:
                    text = (await resp.text(errors="replace"))[:300]
                    refused = resp.status < 500 and resp.status not in (401, 403, 429)
                    kind = "refused the call" if refused else "answered"
                    raise ExecutorUnavailable(f"executor {kind} ({resp.status}): {text}")
                rest = b""
                async for chunk in resp.content.iter_any():
                    *lines, rest = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
                    for line in lines:
                        self._deliver(line, len(jobs), seen, on_outcome)
                if rest.strip():
                    self._deliver(rest, len(jobs), seen, on_outcome)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            if not seen:
                raise ExecutorUnavailable(f"executor unreachable at {url}: {exc!r}") from exc
            error = f"the executor's answer broke off at {url}: {exc!r}"
        missing = [i for i in range(len(jobs)) if i not in seen]
        if missing and error is None:
            error = f"the executor ended its answer without an outcome for {len(missing)} of {len(jobs)} jobs"
        return BatchEnd(missing, error)

    @staticmethod
    def _deliver(line: bytes, n: int, seen: set[int], on_outcome: OnOutcome) -> None:
        if not line.strip():
            return
        try:
            obj, lenient = parse_line(line)
        except ValueError:
            log.error("the executor sent a line that is not JSON: %r", line[:200])
            return
        index = obj.pop("index", None) if isinstance(obj, dict) else None
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n or index in seen:
            log.error("the executor sent an outcome for no job of this batch: %r", line[:200])
            return
        seen.add(index)
        on_outcome(index, obj, lenient)

    async def call(self, method: str, path: str, body: Any = None, timeout_s: float = 5) -> tuple[int, Any]:
        """A small JSON call to the executor (the local supervisor's /pool, /pool/check): (status, body)."""
        async with self._http().request(method, f"{self.base_url}{path}", json=body,
                                        timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            return resp.status, await resp.json(content_type=None)

    async def health(self) -> dict[str, Any]:
        try:
            async with self._http().get(f"{self.base_url}/health", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                body = await resp.json(content_type=None)
                return (body if isinstance(body, dict) else {"ok": False}) | {"status_code": resp.status}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return {"ok": False, "error": f"executor unreachable: {exc!r}"}
