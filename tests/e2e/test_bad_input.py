"""Bad input gets a clear error and changes nothing."""

from __future__ import annotations

import pytest

from tests.conftest import Stack
from tests.e2e.test_jobs_api import count_jobs


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"payload": {}}', 422, "code is required"),
        (b'{"code": 5}', 422, "code"),
        (b'{"code": "return 1", "max_attempts": "many"}', 422, "max_attempts"),
        (b'{"code": "return 1", "timeout_ms": -5}', 422, "timeout_ms"),
        (b'{"code": "return 1", "colour": "blue"}', 422, "colour is not a known field"),
        (b'{"code": "   "}', 422, "blank"),
        (b'{"code": "return 1",', 400, "not valid JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"code": "return 1", "cache_id": "has spaces"}', 422, "cache_id"),
    ],
)
def test_bad_submit_is_refused_and_writes_nothing(stack: Stack, body: bytes, status: int, words: str) -> None:
    before = count_jobs(stack)
    with stack.client() as c:
        r = c.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert words in r.json()["detail"], r.json()
    assert "Traceback" not in r.text
    assert count_jobs(stack) == before


def test_huge_body_is_413(stack: Stack) -> None:
    before = count_jobs(stack)
    with stack.client() as c:
        r = c.post("/api/jobs", json={"code": "return 1", "payload": "x" * 2_000_000})
    assert r.status_code == 413
    assert "1048576" in r.json()["detail"]
    assert count_jobs(stack) == before


def test_unknown_job_is_404(stack: Stack) -> None:
    with stack.client() as c:
        r = c.get("/api/jobs/987654321")
        assert r.status_code == 404 and "987654321" in r.json()["detail"]
        assert c.get("/api/jobs/not-a-number").status_code == 422


def test_token_required_on_api_not_on_health(stack: Stack) -> None:
    with stack.client(token=None) as c:
        r = c.get("/api/jobs")
        assert r.status_code == 401 and "bearer token" in r.json()["detail"]
        assert c.get("/health").status_code == 200
    with stack.client(token="wrong") as c:
        assert c.get("/api/jobs").status_code == 401
        before = count_jobs(stack)
        assert c.post("/api/jobs", json={"code": "return 1"}).status_code == 401
        assert count_jobs(stack) == before


def test_nul_characters_are_refused_not_500(stack: Stack) -> None:
    before = count_jobs(stack)
    with stack.client() as c:
        for body in (
            {"code": "return 1\u0000"},
            {"code": "return 1", "payload": {"k": "a\u0000b"}},
            {"code": "return 1", "payload": {"a\u0000": 1}},
            {"code": "return 1", "idempotency_key": "\u0000"},
        ):
            r = c.post("/api/jobs", json=body)
            assert r.status_code == 422 and "NUL" in r.json()["detail"], (body, r.text)
        r = c.get("/api/jobs", params={"cache_id": "\u0000"})
        assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
        r = c.post("/api/workers", json={"name": "\u0000", "code": "return 1"})
        assert r.status_code == 422, r.text
    assert count_jobs(stack) == before


def test_nul_in_results_and_logs_is_recorded_safely(stack: Stack) -> None:
    bad = stack.submit({"code": "return 'a\\u0000b'"})
    assert bad["status"] == "failed" and bad["error"]["name"] == "ResultError" and "NUL" in bad["error"]["message"]
    noisy = stack.submit({"code": "console.log('x\\u0000y'); return 'ok'"})
    assert noisy["status"] == "succeeded" and noisy["result"] == "ok"
    assert noisy["execution_logs"][0]["message"] == "x\ufffdy"


def test_huge_chunked_body_without_length_is_413(stack: Stack) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"code": "return 1", "payload": "'
        for _ in range(300):
            yield b"x" * 10_000
        yield b'"}'

    before = count_jobs(stack)
    with stack.client() as c:
        r = c.post("/api/jobs", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert count_jobs(stack) == before
