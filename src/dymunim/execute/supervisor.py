"""`dymunim executor`: the local executor. Serves the Worker's HTTP contract in front of the pool."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import signal
from pathlib import Path
from typing import Any

from aiohttp import web

from dymunim.execute.blame import run_batch, run_one
from dymunim.execute.contract import ContractError, validator
from dymunim.execute.pool import Pool, WorkerRefused
from dymunim.execute.workerd import default_worker_dir
from dymunim.jsonbytes import loads
from dymunim.settings import Settings

log = logging.getLogger(__name__)

POOL: web.AppKey[Pool] = web.AppKey("pool", Pool)
TOKEN: web.AppKey[str | None] = web.AppKey("token", str)


KEEPALIVE_S = 2.0


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


# Requests are checked against the contract's JSON Schema (compiled once, here): a bad field is a 400
# naming it, e.g. "jobs[3].timeout_ms must be bigger than or equal to 1".
_check_job = validator("Job")
_check_batch = validator("BatchRequest")


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.app[TOKEN]
    if token and request.path != "/health":
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            return _problem(401, "missing or wrong bearer token (EXECUTOR_TOKEN)")
    try:
        resp: web.StreamResponse = await handler(request)
        return resp
    except WorkerRefused as exc:
        return _problem(502, str(exc))


async def _body(request: web.Request) -> tuple[Any, bytes]:
    raw = await request.read()
    try:
        return loads(raw), raw
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body is not valid JSON"}', content_type="application/json") from None


def _json_bytes(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json", charset="utf-8")


async def health(request: web.Request) -> web.Response:
    pool = request.app[POOL]
    procs = pool.snapshot()
    ok = any(p["ready"] for p in procs if not p.get("quarantine"))
    return web.json_response({"ok": ok, "loader": True, "processes": procs, "calls": pool.calls},
                             status=200 if ok else 503)


async def pool_table(request: web.Request) -> web.Response:
    """The pool's processes and their token, for a local dispatcher that calls them directly while the
    supervisor only watches (execute/direct.py). In the order `Pool.pick` homes cache ids by."""
    pool = request.app[POOL]
    return web.json_response({
        "token": pool.token,
        "processes": [{"index": s.index, "url": s.proc.url, "ready": s.ready.is_set() and not s.killed}
                      for s in pool.slots],
    })


async def pool_check(request: web.Request) -> web.Response:
    """A direct call to process `index` passed its deadline: kill the process if it no longer answers
    /health (frozen by a runaway job), as the watchdog does for the calls it makes itself."""
    pool = request.app[POOL]
    try:
        index = int((await _body(request))[0]["index"])
        slot = pool.slots[index]
    except (KeyError, TypeError, ValueError, IndexError):
        return _problem(400, 'send {"index": <process index>} of a process of the pool (GET /pool)')
    killed = False
    if slot.ready.is_set() and not slot.killed and not await pool.answers(slot):
        pool.kill(slot, "deadline", "a direct call passed its deadline and /health does not answer")
        killed = True
    return web.json_response({"killed": killed})


def _strikes(request: web.Request) -> tuple[int, set[int]]:
    """A dispatcher handing over jobs a direct call left without an outcome says how often they have
    been on a killed process already (X-Dymunim-Strikes) and on which one (X-Dymunim-Avoid)."""
    try:
        strikes = max(0, int(request.headers.get("X-Dymunim-Strikes", "0")))
        avoid = {int(request.headers["X-Dymunim-Avoid"])} if "X-Dymunim-Avoid" in request.headers else set()
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "X-Dymunim-Strikes and X-Dymunim-Avoid are integers"}',
                                 content_type="application/json") from None
    return strikes, avoid


async def single(request: web.Request) -> web.Response:
    job, raw = await _body(request)
    try:
        _check_job(job)
    except ContractError as exc:
        return _problem(400, str(exc))
    if request.path == "/get" and not job.get("cache_id"):
        return _problem(400, "cache_id is required for /get")
    if request.path == "/load":
        # The Worker's /load ignores cache_id too, so the body goes on as received.
        job = {**job, "cache_id": None}
    request.app[POOL].calls += 1
    # The Outcome bytes go back as the Worker wrote them: nothing here needs to look inside.
    return _json_bytes(await run_one(request.app[POOL], job, raw))


async def batch(request: web.Request) -> web.StreamResponse:
    """NDJSON, one `{"index": i, …Outcome}` line per job as soon as it finishes (the Worker's contract)."""
    body, raw = await _body(request)
    try:
        _check_batch(body)
    except ContractError as exc:
        return _problem(400, str(exc))
    jobs = body["jobs"]
    strikes, avoid = _strikes(request)
    request.app[POOL].calls += 1
    resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson; charset=utf-8"})
    await resp.prepare(request)
    pending: list[bytes] = []
    more = asyncio.Event()

    def emit(index: int, outcome: bytes) -> None:
        pending.append(b'{"index":%d,%s\n' % (index, outcome[1:]))
        more.set()

    work = asyncio.ensure_future(run_batch(request.app[POOL], jobs, emit, raw, strikes=strikes, avoid=avoid))
    try:
        while pending or not work.done():
            if not pending:
                more.clear()
                waiter = asyncio.ensure_future(more.wait())
                await asyncio.wait([work, waiter], timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if not pending and not work.done():
                    # An empty line while a job is being blamed and re-run: the caller's read
                    # timeout then only has to cover one job's deadline, not three.
                    await resp.write(b"\n")
                continue
            chunk = b"".join(pending)
            pending.clear()
            await resp.write(chunk)
        await work
    except Exception:
        # End the stream without its last chunk: the caller treats the jobs it did not get as an
        # infrastructure failure and runs them again.
        log.exception("a streamed batch failed")
        if request.transport is not None:
            request.transport.abort()
        return resp
    finally:
        if not work.done():
            work.cancel()
    await resp.write_eof()
    return resp


def build_app(pool: Pool, token: str | None) -> web.Application:
    app = web.Application(middlewares=[_auth], client_max_size=64 * 2**20)
    app[POOL] = pool
    app[TOKEN] = token
    app.router.add_get("/health", health)
    app.router.add_post("/load", single)
    app.router.add_post("/get", single)
    app.router.add_post("/batch", batch)
    app.router.add_get("/pool", pool_table)
    app.router.add_post("/pool/check", pool_check)
    return app


def pool_size(settings: Settings) -> int:
    return settings.executor_processes or os.cpu_count() or 2


async def serve(settings: Settings, port: int, *, ready_file: Path | None = None) -> None:
    worker_dir = settings.worker_dir or default_worker_dir()
    pool = Pool(
        worker_dir,
        secrets.token_urlsafe(24),
        pool_size(settings),
        max_rss_mb=settings.executor_max_rss_mb,
        max_isolates=settings.executor_max_isolates,
    )
    await pool.start()
    runner = web.AppRunner(build_app(pool, settings.executor_token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    log.info("executor pool of %d workerd processes on http://127.0.0.1:%d", pool.size, port)
    if ready_file:
        ready_file.write_text(str(port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await pool.stop()
