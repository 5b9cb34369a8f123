"""The local executor pool against poison code, on real workerd processes."""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.execute.conftest import Executor

SLOW_OK = "await new Promise(r => setTimeout(r, 300)); return payload.i"


def call(ex: Executor, job: dict[str, Any], path: str = "/load") -> dict[str, Any]:
    with ex.client() as c:
        r = c.post(path, json=job)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out


def batch(ex: Executor, jobs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[float]]:
    """POST /batch; each job's outcome in submission order, and when its NDJSON line arrived (s)."""
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    at = [0.0] * len(jobs)
    t0 = time.monotonic()
    with ex.client() as c, c.stream("POST", "/batch", json={"jobs": jobs}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("application/x-ndjson")
        for line in r.iter_lines():
            if not line.strip():
                continue  # keep-alive while a job is blamed and re-run
            out = json.loads(line)
            i = out.pop("index")
            assert results[i] is None, f"index {i} twice"
            results[i], at[i] = out, time.monotonic() - t0
    assert all(o is not None for o in results), "every job has exactly one line"
    return results, at  # type: ignore[return-value]


def test_infinite_loop_is_the_only_casualty(executor: Executor) -> None:
    jobs = [{"code": SLOW_OK, "payload": {"i": i}, "timeout_ms": 5000, "job_id": i} for i in range(20)]
    loop = {"code": "while (true) {}", "timeout_ms": 1500, "job_id": 999}
    with ThreadPoolExecutor(max_workers=21) as pool:
        futures = [pool.submit(call, executor, j) for j in jobs]
        time.sleep(0.05)
        looping = pool.submit(call, executor, loop)
        outs = [f.result(timeout=120) for f in futures]
        bad = looping.result(timeout=120)
    for i, out in enumerate(outs):
        assert out["ok"], (i, out)
        assert out["result"] == i
    assert not bad["ok"]
    assert bad["error"]["name"] == "TimeoutError"
    assert bad["error"]["message"] == "exceeded 1500 ms"
    restarts = sum(p["restarts"] for p in executor.health()["processes"])
    assert restarts >= 1, "the frozen process was replaced"
    # The pool answers a new job promptly after the kill.
    t0 = time.monotonic()
    assert call(executor, {"code": "return 7"})["result"] == 7
    assert time.monotonic() - t0 < 2


def test_allocation_bomb_fails_clearly_neighbours_succeed(executor: Executor) -> None:
    bomb = {"code": "const a = []; while (true) { a.push(new Array(1e6).fill(Math.random())); }",
            "timeout_ms": 60000, "job_id": 5000}
    jobs = [{"code": SLOW_OK, "payload": {"i": i}, "timeout_ms": 20000} for i in range(6)]
    with ThreadPoolExecutor(max_workers=7) as pool:
        futures = [pool.submit(call, executor, j) for j in jobs]
        b = pool.submit(call, executor, bomb)
        outs = [f.result(timeout=180) for f in futures]
        out = b.result(timeout=180)
    assert all(o["ok"] for o in outs), outs
    assert not out["ok"]
    assert out["error"]["name"] == "OutOfMemoryError", out["error"]
    assert "MiB" in out["error"]["message"]


def test_million_log_lines_are_capped(executor: Executor) -> None:
    out = call(executor, {"code": "for (let i = 0; i < 1000000; i++) console.log('line', i); return 'ok'",
                          "max_log_lines": 1000, "timeout_ms": 60000})
    assert out["ok"] and out["result"] == "ok"
    assert out["logs_truncated"] is True
    assert len(out["logs"]) <= 1001
    assert "truncated" in out["logs"][-1]["message"]


def test_workerd_killed_from_outside_loses_nothing(executor: Executor) -> None:
    jobs = [{"code": SLOW_OK.replace("300", "1000"), "payload": {"i": i}, "timeout_ms": 10000} for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(call, executor, j) for j in jobs]
        time.sleep(0.4)
        victim = next(p for p in executor.health()["processes"] if p["in_flight"] > 0 and p["index"] >= 0)
        os.kill(victim["pid"], signal.SIGKILL)
        outs = [f.result(timeout=120) for f in futures]
    assert [o["result"] for o in outs] == list(range(10)), outs
    assert all(o["ok"] for o in outs)
    after = {p["index"]: p for p in executor.health()["processes"]}
    assert after[victim["index"]]["pid"] != victim["pid"] and after[victim["index"]]["ready"]


def test_batch_isolates_failures_and_keeps_warm(executor: Executor) -> None:
    jobs = [{"code": "return payload.i * 2", "payload": {"i": i}, "cache_id": "dbl"} for i in range(50)]
    jobs[7] = {"code": "throw new Error('seven')"}
    first, _ = batch(executor, jobs)
    second, _ = batch(executor, jobs)
    assert [o["result"] for i, o in enumerate(first) if i != 7] == [i * 2 for i in range(50) if i != 7]
    assert first[7]["error"]["message"] == "seven"
    assert not any(o["cold"] for i, o in enumerate(second) if i != 7), "same cache id stays warm"


def test_contract_auth_and_bad_bodies(executor: Executor) -> None:
    assert httpx.post(executor.url + "/load", json={"code": "return 1"}).status_code == 401
    with executor.client() as c:
        assert c.post("/load", json={"payload": 1}).status_code == 400
        assert c.post("/batch", json={"jobs": "no"}).status_code == 400
        assert c.post("/get", json={"code": "return 1"}).status_code == 400
        bad = c.post("/batch", json={"jobs": [{"code": "return 1"}, {"code": "return 1", "timeout_ms": 0}]})
        assert (bad.status_code, bad.json()) == (400, {"error": "jobs[1].timeout_ms must be bigger than or equal to 1"})
    health = executor.health()
    assert health["ok"] and {"pid", "port", "in_flight", "restarts", "rss_mb"} <= set(health["processes"][0])


def test_neighbours_of_poison_in_one_batch_answer_at_once(executor: Executor) -> None:
    """Results stream: innocent jobs sharing an executor call with a runaway loop and a memory bomb
    are answered in milliseconds, not when the poison is killed; the culprits' durations are real."""
    jobs = [{"code": "return payload.i", "payload": {"i": i}, "cache_id": "nbr"} for i in range(20)]
    jobs.insert(5, {"code": "while (true) {}", "timeout_ms": 3000})
    jobs.insert(12, {"code": "const a = []; while (true) { a.push(new Array(1e6).fill(Math.random())); }",
                     "timeout_ms": 20000})
    t0 = time.monotonic()
    outs, at = batch(executor, jobs)
    total = time.monotonic() - t0
    innocent = [i for i in range(len(jobs)) if i not in (5, 12)]
    assert [outs[i]["result"] for i in innocent] == list(range(20))
    assert max(at[i] for i in innocent) < 1.5, [round(at[i], 2) for i in innocent]
    assert outs[5]["error"]["name"] == "TimeoutError"
    assert outs[12]["error"]["name"] == "OutOfMemoryError"
    assert outs[12]["duration_ms"] < 20000, "killed well before its timeout: the duration says so"
    assert outs[12]["duration_ms"] <= total * 1000


def test_neighbours_frozen_with_a_loop_answer_right_after_the_first_kill(executor: Executor) -> None:
    """A loop that shares a process with neighbours freezes them until it is killed once; then the
    neighbours run again elsewhere and the rarer code (the loop) goes to quarantine alone, so they
    do not wait for the second kill and the quarantine."""
    jobs = [{"code": "return payload.i", "payload": {"i": i}} for i in range(12)]
    jobs.insert(4, {"code": "while (true) {}", "timeout_ms": 2000})
    outs, at = batch(executor, jobs)
    innocent = [i for i in range(len(jobs)) if i != 4]
    assert [outs[i]["result"] for i in innocent] == list(range(12))
    assert max(at[i] for i in innocent) < 2.0 + 0.75 + 2.0, [round(at[i], 2) for i in innocent]
    assert outs[4]["error"]["name"] == "TimeoutError"
    assert at[4] > max(at[i] for i in innocent), "the loop is blamed after its neighbours are answered"
