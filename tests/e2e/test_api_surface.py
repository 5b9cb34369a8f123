"""The API's edges: search text taken literally, one validation path for every route."""

from __future__ import annotations

import uuid

from tests.conftest import Stack
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
