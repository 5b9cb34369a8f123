"""Control-plane API contract: metrics, workers, queues, live events, Prometheus, trace ids, paging."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import TOKEN, Stack, start_stack, stop_stack_proc


def test_metrics_reflect_jobs(stack: Stack) -> None:
    cid = f"m-{uuid.uuid4().hex[:6]}"
    stack.submit({"code": "return 1", "cache_id": cid})
    stack.submit({"code": "throw new Error('metric failure')", "cache_id": cid})
    with stack.client() as c:
        m = c.get("/api/metrics", params={"range_minutes": 15}).json()
    assert m["counts"]["succeeded"] >= 1 and m["counts"]["failed"] >= 1
    assert m["total"] == sum(m["counts"].values())
    with stack.db() as db:
        real = {r["status"]: r["n"] for r in db.execute("SELECT status, count(*) AS n FROM jobs_state GROUP BY 1")}
    assert {k: v for k, v in m["counts"].items() if v} == real, "counters agree with the table"
    assert 0 < m["success_rate"] < 1
    assert m["throughput"] and sum(x["succeeded"] for x in m["throughput"]) >= 1
    assert m["exec_ms"]["p50"] is not None and m["queue_wait_ms"]["p99"] is not None
    assert m["cold"]["cold"] + m["cold"]["warm"] >= 2
    assert any(f["cache_id"] == cid and f["failures"] == 1 for f in m["top_failing"])
    with stack.client() as c:
        assert c.get("/api/metrics", params={"range_minutes": 0}).status_code == 422


def test_saved_workers(stack: Stack) -> None:
    name = f"doubler-{uuid.uuid4().hex[:6]}"
    with stack.client() as c:
        r = c.post("/api/workers", json={"name": name, "code": "return payload.n * 2", "cache_id": "dbl"})
        assert r.status_code == 201, r.text
        w = r.json()
        assert w["worker_id"].startswith("w_") and w["code"] == "return payload.n * 2"
        taken_code = f"return '{name} taken'"
        taken = c.post("/api/workers", json={"name": name, "code": taken_code})
        assert taken.status_code == 409 and "exists already" in taken.json()["detail"], taken.text
        with stack.db() as db:  # the refused worker's code was stored in the same transaction: rolled back
            assert db.execute("SELECT count(*) AS n FROM job_code WHERE code = %s", (taken_code,)).fetchone() == {
                "n": 0}
        job = c.post(f"/api/workers/{w['worker_id']}/run", params={"wait": 30}, json={"payload": {"n": 21}}).json()
        assert job["status"] == "succeeded" and job["result"] == 42 and job["worker_id"] == w["worker_id"]
        got = c.get(f"/api/workers/{w['worker_id']}").json()
        assert [j["job_id"] for j in got["recent_jobs"]] == [job["job_id"]]
        assert any(x["worker_id"] == w["worker_id"] and x["recent_finished"] == 1 and x["failure_rate"] == 0
                   for x in c.get("/api/workers").json()["workers"])
        assert c.get("/api/workers/w_nope").status_code == 404
        assert c.post("/api/workers/w_nope/run", json={}).status_code == 404
        assert c.post("/api/workers", json={"name": "x"}).status_code == 422


def test_queues_and_peek(stack: Stack) -> None:
    job = stack.submit({"code": "return 1", "delay_ms": 60_000}, wait=0)
    with stack.client() as c:
        queues = {q["queue_name"]: q for q in c.get("/api/queues").json()["queues"]}
        assert {"jobs", "jobs_dlq"} <= set(queues)
        assert queues["jobs"]["queue_length"] >= 1
        msgs = c.get("/api/queues/jobs/messages", params={"limit": 500}).json()["messages"]
        mine = [m for m in msgs if m["message"]["job_id"] == job["job_id"]]
        assert len(mine) == 1 and mine[0]["read_ct"] == 0, "peeking never claims"
        assert c.get("/api/queues/nope/messages").status_code == 404
        assert c.get("/api/queues/jobs;drop/messages").status_code == 404
        assert c.delete("/api/dead-letters").status_code == 409
        c.post(f"/api/jobs/{job['job_id']}/cancel")


def test_prometheus_and_health(stack: Stack) -> None:
    stack.submit({"code": "return 1"})
    text = httpx.get(stack.url + "/metrics").text
    assert 'dymunim_jobs{status="succeeded"}' in text
    assert "dymunim_execution_seconds_bucket" in text and 'dymunim_queue_depth{queue="jobs"}' in text
    assert httpx.get(stack.url + "/health").json()["ok"]
    with stack.client() as c:
        assert c.get("/api/health").json()["checks"]["dispatchers"]["alive"]


def test_trace_id_from_headers(stack: Stack) -> None:
    trace = uuid.uuid4().hex
    with stack.client() as c:
        r = c.post("/api/jobs", params={"wait": 30}, json={"code": "return ctx.trace_id"},
                   headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        job = r.json()
        assert job["trace_id"] == trace and job["result"] == trace
        assert r.headers["x-request-id"]
        x = c.post("/api/jobs", json={"code": "return 1"}, headers={"X-Trace-Id": "my-trace-1"}).json()
        assert x["trace_id"] == "my-trace-1"
        listed = c.get("/api/jobs", params={"trace_id": trace}).json()["jobs"]
        assert [j["job_id"] for j in listed] == [job["job_id"]]


def test_list_filters(stack: Stack) -> None:
    marker = uuid.uuid4().hex[:10]
    bad = stack.submit({"code": f"throw new Error('needle {marker}')"})
    with stack.client() as c:
        found = c.get("/api/jobs", params={"q": marker}).json()["jobs"]
        assert [j["job_id"] for j in found] == [bad["job_id"]]
        assert c.get("/api/jobs", params={"status": "nope"}).status_code == 422
        assert c.get("/api/jobs", params={"cursor": "abc"}).status_code == 422
        future = c.get("/api/jobs", params={"created_after": "2999-01-01T00:00:00Z"}).json()["jobs"]
        assert future == []


def test_pagination_never_skips_or_repeats_while_jobs_arrive(stack: Stack) -> None:
    with stack.client() as c:
        for i in range(30):
            c.post("/api/jobs", json={"code": "return 1", "payload": i})
        top = c.get("/api/jobs", params={"limit": 1}).json()["jobs"][0]["job_id"]
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 7}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/api/jobs", params=params).json()
            seen += [j["job_id"] for j in page["jobs"] if j["job_id"] <= top]
            c.post("/api/jobs", json={"code": "return 1"})  # new jobs arrive between pages
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert len(seen) == len(set(seen)), "no job repeats"
    with stack.db() as db:
        expected = [r["job_id"] for r in db.execute(
            "SELECT job_id FROM jobs_state WHERE job_id <= %s ORDER BY job_id DESC", (top,))]
    assert seen == expected, "no job is skipped"


def test_sse_sees_a_job_go_queued_running_succeeded(stack: Stack) -> None:
    events: list[dict[str, Any]] = []
    ready = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", stack.url + "/api/events", params={"token": TOKEN}, timeout=30) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith(": connected"):
                    ready.set()
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                if stop.is_set():
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    assert ready.wait(10)
    job = stack.submit({"code": "return 'live'"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [e["status"] for e in events if e["job_id"] == job["job_id"]]
        if mine[-1:] == ["succeeded"]:
            break
        time.sleep(0.05)
    stop.set()
    assert [e["status"] for e in events if e["job_id"] == job["job_id"]] == ["queued", "running", "succeeded"]
    first = min(e["event_id"] for e in events if e["job_id"] == job["job_id"])
    # Resume: everything after an event id is replayed, in order, from the table.
    with httpx.stream("GET", stack.url + "/api/events", headers={"Authorization": f"Bearer {TOKEN}",
                                                                  "Last-Event-ID": str(first)}, timeout=10) as r:
        replay = []
        for line in r.iter_lines():
            if line.startswith("data: "):
                replay.append(json.loads(line[6:]))
                if replay[-1]["job_id"] == job["job_id"] and replay[-1]["status"] == "succeeded":
                    break
    assert [e["status"] for e in replay if e["job_id"] == job["job_id"]] == ["running", "succeeded"]
    assert httpx.get(stack.url + "/api/events", params={"token": "wrong"}).status_code == 401


def test_submit_rate_limit(tmp_path: Path) -> None:
    s = start_stack(tmp_path, DYMUNIM_SUBMIT_RATE_PER_S="0.5", DYMUNIM_SUBMIT_BURST="3", DYMUNIM_MAX_CODE_BYTES="100")
    try:
        with s.client() as c:
            codes = [c.post("/api/jobs", json={"code": "return 1"}).status_code for _ in range(5)]
            assert codes[:3] == [201, 201, 201] and 429 in codes[3:]
            r = c.post("/api/jobs", json={"code": "return 1"})
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            assert "rate limit" in r.json()["detail"]
            assert c.get("/api/jobs").status_code == 200, "reads are not limited"
            time.sleep(2.5)  # one token back at 0.5/s, so the next submit meets the code limit
            big = c.post("/api/jobs", json={"code": "return 1;" + " " * 200})
            assert big.status_code == 413 and "100 bytes" in big.json()["detail"], big.text
        with s.db() as db:
            n = db.execute("SELECT count(*) AS n FROM jobs_state").fetchone()
            assert n and n["n"] == codes.count(201)
        access = [json.loads(line.split("dymunim.access: ", 1)[1]) for line in s.log_path.read_text().splitlines()
                  if "dymunim.access: " in line]
        limited = [a for a in access if a["status"] == 429]
        assert limited and {"request_id", "method", "path", "duration_ms"} <= set(limited[0])
    finally:
        stop_stack_proc(s.proc)


def test_ui_is_served_with_spa_fallback(stack: Stack) -> None:
    for path in ("/", "/jobs", "/jobs/123", "/workers/new"):
        r = httpx.get(stack.url + path)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"], path
    r = httpx.get(stack.url + "/api/nope", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_queue_wait_is_measured_from_run_at_not_submit(stack: Stack) -> None:
    job = stack.submit({"code": "return 'late'", "delay_ms": 6000}, wait=0)
    with stack.client() as c:
        for _ in range(200):
            if c.get(f"/api/jobs/{job['job_id']}").json()["status"] == "succeeded":
                break
            time.sleep(0.1)
    with stack.db() as db:
        row = db.execute("SELECT coalesce(sum(n), 0) AS n FROM job_minute_latency "
                         "WHERE kind = 'wait' AND dymunim_bucket_upper_ms(bucket) > 5000").fetchone()
    assert row and row["n"] == 0, "a 6 s delay is not 6 s of queue wait"
