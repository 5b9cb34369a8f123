"""HTTP client for an executor (the local supervisor or the Worker on Cloudflare)."""

from __future__ import annotations

from typing import Any, cast

import httpx
import orjson
from httpx_aiohttp import HttpxAiohttpClient

from dymunim.execute.contract import ExecJob, ExecutorUnavailable, Outcome

# Time the HTTP call may take beyond the job's own deadline: the executor answers a timed-out
# job itself, so the client deadline only catches an executor that stopped answering at all.
_SLACK_S = 10.0


class ExecutorClient:
    def __init__(self, base_url: str, token: str | None, *, max_connections: int = 64) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # httpx's API over aiohttp's transport: measured 4.6 -> 3.5 ms per warm call to the local
        # executor, where httpx's own HTTP/1.1 stack was the slowest hop on the idle path.
        self._http = HttpxAiohttpClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            timeout=httpx.Timeout(30.0, connect=5.0),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, body: Any, timeout_s: float) -> Any:
        try:
            resp = await self._http.post(path, content=orjson.dumps(body), timeout=timeout_s + _SLACK_S,
                                         headers={"content-type": "application/json"})
        except httpx.HTTPError as exc:
            raise ExecutorUnavailable(f"executor unreachable at {self._http.base_url}{path}: {exc!r}") from exc
        if resp.status_code >= 500 or resp.status_code in (401, 403, 429):
            raise ExecutorUnavailable(f"executor answered {resp.status_code}: {resp.text[:300]}")
        if resp.status_code != 200:
            # A 4xx for a well-formed job is a contract bug between us and the executor, not user error.
            raise ExecutorUnavailable(f"executor refused the call ({resp.status_code}): {resp.text[:300]}")
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            return resp.json()  # integers beyond 64 bits: orjson refuses them, json does not

    async def run(self, job: ExecJob) -> Outcome:
        path = "/get" if job.get("cache_id") else "/load"
        timeout_s = job.get("timeout_ms", 30_000) / 1000
        return cast(Outcome, await self._post(path, job, timeout_s))

    async def run_batch(self, jobs: list[ExecJob]) -> list[Outcome]:
        timeout_s = max((j.get("timeout_ms", 30_000) for j in jobs), default=30_000) / 1000
        body = await self._post("/batch", {"jobs": jobs}, timeout_s)
        results = cast(list[Outcome], body["results"])
        if len(results) != len(jobs):
            raise ExecutorUnavailable(f"executor returned {len(results)} results for {len(jobs)} jobs")
        return results

    async def health(self) -> dict[str, Any]:
        try:
            resp = await self._http.get("/health", timeout=5.0)
            return cast(dict[str, Any], resp.json()) | {"status_code": resp.status_code}
        except (httpx.HTTPError, ValueError) as exc:
            return {"ok": False, "error": f"executor unreachable: {exc!r}"}
