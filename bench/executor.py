"""Executor benchmark: through the supervisor alone, and straight to one workerd for comparison; then the
dispatcher's own call (a /batch of one warm job) through the supervisor, the direct way with the supervisor
watching (execute/direct.py), and to a workerd alone.

Prints one line per figure. Run: .venv/bin/python bench/executor.py
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.execute.conftest import EX_TOKEN, start_executor

TRIVIAL = "return payload.i + 1"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


class Client:
    """aiohttp, not httpx: the load generator shares the 2 cores and must cost as little as possible."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.s = session

    async def post(self, path: str, body: object) -> dict:  # type: ignore[type-arg]
        async with self.s.post(self.url + path, json=body) as r:
            if r.content_type == "application/x-ndjson":  # /batch: one outcome per line as jobs finish
                lines = [json.loads(x) for x in (await r.read()).splitlines() if x.strip()]
                return {"results": sorted(lines, key=lambda o: o["index"])}
            return await r.json()  # type: ignore[no-any-return]


async def latencies(c: Client, path: str, n: int, cache: bool) -> list[float]:
    out = []
    for i in range(n):
        body: dict[str, object] = {"code": TRIVIAL, "payload": {"i": i}}
        if cache:
            body["cache_id"] = "bench"
        t0 = time.perf_counter()
        r = await c.post(path, body)
        out.append((time.perf_counter() - t0) * 1000)
        assert r["ok"], r
    return out


async def concurrent(c: Client, total: int, conc: int) -> float:
    sem = asyncio.Semaphore(conc)

    async def one(i: int) -> None:
        async with sem:
            r = await c.post("/get", {"code": TRIVIAL, "payload": {"i": i}, "cache_id": "bench"})
            assert r["ok"]

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(total)))
    return total / (time.perf_counter() - t0)


async def batches(c: Client, n_batches: int, size: int, conc: int = 2) -> float:
    jobs = [{"code": TRIVIAL, "payload": {"i": i}, "cache_id": "bench"} for i in range(size)]
    sem = asyncio.Semaphore(conc)

    async def one() -> None:
        async with sem:
            r = await c.post("/batch", {"jobs": jobs})
            assert all(o["ok"] for o in r["results"])

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n_batches)))
    return n_batches * size / (time.perf_counter() - t0)


async def measure(url: str, label: str) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {EX_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=64)) as session:
        c = Client(url, session)
        await latencies(c, "/get", 50, True)  # warm up
        cold = await latencies(c, "/load", 200, False)
        warm = await latencies(c, "/get", 1000, True)
        cps = await concurrent(c, 4000, 64)
        bps = await batches(c, 200, 100)
    figures = {"cold_p50_ms": pct(cold, 0.5), "cold_p99_ms": pct(cold, 0.99), "warm_p50_ms": pct(warm, 0.5),
               "warm_p99_ms": pct(warm, 0.99), "calls_per_s_64_concurrent": cps, "batch100_jobs_per_s": bps}
    for k, v in figures.items():
        print(f"{label} {k} {v:.2f}", flush=True)
    return figures


async def dispatcher_calls(executor: Any, n: int) -> list[float]:
    """The dispatcher's own call, a /batch of one warm job (as at idle), through `executor`: ms each."""
    out = []
    got: list[Any] = []
    for i in range(n):
        got.clear()
        t0 = time.perf_counter()
        end = await executor.run_batch([{"code": TRIVIAL, "payload": {"i": i}, "cache_id": "bench"}],
                                       lambda _k, o, _lenient: got.append(o))
        out.append((time.perf_counter() - t0) * 1000)
        assert not end.missing and got and got[0]["ok"], (end, got)
    return out


async def dispatcher_paths(supervisor_url: str, workerd_url: str) -> dict[str, float]:
    """p50 of the dispatcher's call through the supervisor, the direct way (execute/direct.py), and to a
    workerd alone (the baseline), the three interleaved call by call so drift hits them alike."""
    from dymunim.execute.client import ExecutorClient
    from dymunim.execute.direct import DirectExecutor

    ways: dict[str, Any] = {
        "dispatch_through_supervisor": ExecutorClient(supervisor_url, EX_TOKEN),
        "dispatch_direct": DirectExecutor(ExecutorClient(supervisor_url, EX_TOKEN)),
        "dispatch_workerd_alone": ExecutorClient(workerd_url, EX_TOKEN),
    }
    times: dict[str, list[float]] = {k: [] for k in ways}
    for executor in ways.values():
        await dispatcher_calls(executor, 100)  # warm up
    for _ in range(1000):
        for label, executor in ways.items():
            times[label] += await dispatcher_calls(executor, 1)
    figures = {}
    for label, executor in ways.items():
        figures[label] = pct(times[label], 0.5)
        print(f"{label} warm_p50_ms {figures[label]:.3f}", flush=True)
        await executor.aclose()
    return figures


def direct_workerd() -> tuple[subprocess.Popen[bytes], str]:
    import json

    from dymunim.execute.workerd import COMPAT_DATE, CONFIG, bundle_path, default_worker_dir, find_workerd, free_port

    wd = default_worker_dir()
    port = free_port()
    cfg = Path(tempfile.mkdtemp()) / "c.capnp"
    cfg.write_text(CONFIG.format(port=port, bundle=json.dumps(str(bundle_path(wd))), date=json.dumps(COMPAT_DATE),
                                 flags="[]", token=json.dumps(EX_TOKEN)))
    proc = subprocess.Popen([str(find_workerd(wd)), "serve", "--experimental", "--import-path", "/", str(cfg)],
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/health", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, url


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    ex = start_executor(tmp)
    try:
        sup = asyncio.run(measure(ex.url, "supervisor"))
    finally:
        ex.proc.send_signal(signal.SIGTERM)
        ex.proc.wait(20)
    proc, url = direct_workerd()
    try:
        direct = asyncio.run(measure(url, "direct_workerd"))
        ex = start_executor(tmp)  # the pool again, beside the lone workerd, for the interleaved calls
        try:
            paths = asyncio.run(dispatcher_paths(ex.url, url))
        finally:
            ex.proc.send_signal(signal.SIGTERM)
            ex.proc.wait(20)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
    overhead = (sup["warm_p50_ms"] - direct["warm_p50_ms"]) / direct["warm_p50_ms"] * 100
    print(f"supervisor_overhead_warm_p50_pct {overhead:.1f}")
    batch_overhead = (1 - sup["batch100_jobs_per_s"] / direct["batch100_jobs_per_s"]) * 100
    print(f"supervisor_overhead_batch_throughput_pct {batch_overhead:.1f}")
    alone = paths["dispatch_workerd_alone"]
    for way in ("dispatch_through_supervisor", "dispatch_direct"):
        print(f"{way}_overhead_warm_p50_pct {(paths[way] - alone) / alone * 100:.1f}")
    print(f"cpu_count {os.cpu_count()} (pool size {os.environ.get('DYMUNIM_EXECUTOR_PROCESSES', 2)})")


if __name__ == "__main__":
    main()
