"""The API's edges: search text taken literally, one validation path, security headers, /docs, /health."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_jobs_api import count_jobs


def _error_text(job: dict[str, object]) -> str:
    err = job.get("error") or {}
    assert isinstance(err, dict)
    return f"{err.get('name', '')} {err.get('message', '')}"


def test_search_text_is_literal_not_a_like_pattern(stack: Stack) -> None:
    marker = uuid.uuid4().hex[:8]
    percent = stack.submit({"code": f"throw new Error('100% sure {marker}')"})
    underscore = stack.submit({"code": f"throw new Error('a_b {marker}')"})
    backslash = stack.submit({"code": f"throw new Error('c\\\\d {marker}')"})
    plain = stack.submit({"code": f"throw new Error('axb {marker}')"})
    assert backslash["error"]["message"] == f"c\\d {marker}"
    with stack.client() as c:
        def found(text: str) -> list[dict[str, object]]:
            r = c.get("/api/jobs", params={"q": text, "limit": 500})
            assert r.status_code == 200, r.text
            jobs: list[dict[str, object]] = r.json()["jobs"]
            return jobs

        for text, mine in (("%", percent), ("_", underscore), ("\\", backslash)):
            jobs = found(text)
            assert mine["job_id"] in [j["job_id"] for j in jobs], text
            assert plain["job_id"] not in [j["job_id"] for j in jobs], f"q={text!r} matched a job without it"
            assert all(text in _error_text(j) for j in jobs), f"q={text!r} matched errors without it"
        assert [j["job_id"] for j in found(f"a_b {marker}")] == [underscore["job_id"]]
        assert [j["job_id"] for j in found(f"0% SURE {marker}")] == [percent["job_id"]], "still case-insensitive"


def test_saved_worker_run_validates_like_submit(stack: Stack) -> None:
    """The route builds its JobSpec itself; a NUL in the payload is the same 422 as on POST /api/jobs."""
    with stack.client() as c:
        w = c.post("/api/workers", json={"name": f"nul-{uuid.uuid4().hex[:8]}", "code": "return payload"}).json()
        before = count_jobs(stack)
        for payload in ("a\u0000b", {"k\u0000": 1}, [["\u0000"]]):
            run = c.post(f"/api/workers/{w['worker_id']}/run", json={"payload": payload})
            direct = c.post("/api/jobs", json={"code": "return payload", "payload": payload})
            for r in (run, direct):
                assert r.status_code == 422, (payload, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.json()["detail"].startswith("payload: ") and "NUL" in r.json()["detail"], r.text
            assert run.json()["errors"] == direct.json()["errors"]
        after = count_jobs(stack)
        assert (after[0], after[2]) == (before[0], before[2]), "nothing was written"


def test_found_by_fuzzing_unstorable_payloads_and_a_foreign_worker_id_are_422(stack: Stack) -> None:
    """Raw JSON text: a lone surrogate or NaN cannot be sent through json= (and are what a fuzzer sends)."""
    before = count_jobs(stack)
    with stack.client() as c:
        for raw, words in (
            ('{"code": "return 1", "payload": {"k": "\\ud800"}}', "unpaired UTF-16 surrogate"),
            ('{"code": "return 1", "payload": ["x\\udfff"]}', "unpaired UTF-16 surrogate"),
            ('{"code": "return 1", "payload": [NaN]}', "NaN or Infinity"),
            ('{"code": "return 1", "payload": {"n": Infinity}}', "NaN or Infinity"),
            # Saved-worker runs set worker_id; a client could claim any worker and crash on a surrogate.
            ('{"code": "return 1", "worker_id": "\\ud800"}', "worker_id is not a known field"),
            ('{"code": "return 1", "worker_id": "w_1"}', "worker_id is not a known field"),
        ):
            json_type = {"content-type": "application/json"}
            r = c.post("/api/jobs", content=raw, headers=json_type)
            assert r.status_code == 422, (raw, r.text)
            assert words in r.json()["detail"], (raw, r.text)
            batch = c.post("/api/jobs/batch", content=f'{{"jobs": [{raw}]}}', headers=json_type)
            assert batch.status_code == 201 and batch.json()["ids"] == [None], batch.text
            assert words in batch.json()["errors"][0]["error"], batch.text
    after = count_jobs(stack)
    assert (after[0], after[2]) == (before[0], before[2]), "nothing was written"


def _assert_common_headers(r: httpx.Response) -> None:
    where = f"{r.request.method} {r.request.url.path} ({r.status_code})"
    assert r.headers.get("x-content-type-options") == "nosniff", where
    assert r.headers.get("x-frame-options") == "DENY", where
    assert r.headers.get("referrer-policy") == "no-referrer", where
    assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), where


def test_every_response_carries_security_headers(stack: Stack) -> None:
    with stack.client() as c:
        page = c.get("/jobs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-eval'" not in csp
        assert "<script>" not in page.text, "no inline script: the CSP would block it"
        asset = re.search(r'href="(/assets/[^"]+\.css)"', page.text)
        assert asset, page.text
        responses = [
            page,
            c.get(asset.group(1)),
            c.get("/theme.js"),
            c.get("/api/jobs", params={"limit": 1}),
            c.get("/api/jobs/999999999"),  # a problem
            c.post("/api/jobs", json={}),  # a validation problem
            c.get("/health"),
            c.get("/metrics"),
            c.get("/openapi.json"),
            c.get("/docs"),
        ]
    with stack.client(token=None) as anon:
        responses.append(anon.get("/api/jobs"))  # 401
    for r in responses:
        _assert_common_headers(r)
    for r in responses[1:]:
        if "text/html" not in r.headers["content-type"]:
            assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_docs_load_only_from_this_origin(stack: Stack) -> None:
    r = httpx.get(stack.url + "/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert {"/swagger/swagger-ui-bundle.js", "/swagger/swagger-ui.css", "/swagger/init.js"} <= set(urls), urls
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "no inline script"
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not same-origin"
        asset = httpx.get(stack.url + url)
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"
        kind = asset.headers["content-type"]
        assert ("javascript" in kind) if url.endswith(".js") else True, (url, kind)
        assert ("text/css" in kind) if url.endswith(".css") else True, (url, kind)
    init = httpx.get(stack.url + "/swagger/init.js").text
    assert '"/openapi.json"' in init and "http" not in init
    # FastAPI's own CDN-backed pages are gone, not merely unlinked.
    assert "cdn" not in httpx.get(stack.url + "/redoc").text.lower()


def test_open_health_says_up_or_down_and_the_detail_needs_the_token(stack: Stack) -> None:
    stack.submit({"code": "return 1"})
    open_ = httpx.get(stack.url + "/health")
    assert open_.status_code == 200
    body = open_.json()
    assert body["ok"] is True and {"database", "dispatchers", "executor"} <= set(body["checks"])
    for name, check in body["checks"].items():
        assert set(check) <= {"ok", "error"}, (name, check)
    for secret in ("pid", "port", "rss", "hostname", "alive", "processes"):
        assert secret not in open_.text, f"open /health shows {secret}"

    assert httpx.get(stack.url + "/api/health").status_code == 401
    with stack.client() as c:
        detail = c.get("/api/health").json()
    assert detail["ok"] is True
    alive = detail["checks"]["dispatchers"]["alive"]
    assert alive and {"id", "pid", "hostname", "in_flight", "last_seen"} <= set(alive[0])
    procs = detail["checks"]["executor"]["processes"]
    assert procs and {"pid", "port", "rss_mb", "in_flight", "restarts"} <= set(procs[0])
    assert detail["checks"]["database"] == {"ok": True}


def test_health_reports_a_check_that_is_down(tmp_path: Path) -> None:
    """No dispatcher running: the open /health is 503 naming the check with a short reason (no pids);
    /api/health still answers 200 with the detail, so the UI can show which check is down."""
    s = start_stack(tmp_path)
    try:
        dispatcher = s.children()["dispatch"]
        os.kill(dispatcher, signal.SIGSTOP)  # alive to `up` (no restart), silent to /health
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = httpx.get(s.url + "/health")
                if r.status_code == 503:
                    break
                time.sleep(0.5)
            assert r.status_code == 503, r.text
            down = r.json()["checks"]["dispatchers"]
            assert down["ok"] is False and "no dispatcher has reported" in down["error"]
            assert set(down) == {"ok", "error"}
            with s.client() as c:
                detail = c.get("/api/health")
            assert detail.status_code == 200 and detail.json()["ok"] is False
            assert detail.json()["checks"]["dispatchers"]["alive"] == []
        finally:
            os.kill(dispatcher, signal.SIGCONT)
    finally:
        stop_stack_proc(s.proc)
