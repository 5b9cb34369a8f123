"""Idempotency keys: in the body or the Idempotency-Key header, under concurrency, and reused for another request."""

from __future__ import annotations

import json
import random
import threading
import uuid
from typing import Any

import httpx

from tests.conftest import Stack
from tests.e2e.test_jobs_api import count_jobs


def _jobs_with_keys(stack: Stack, keys: list[str]) -> dict[str, list[int]]:
    with stack.db() as db:
        rows = db.execute("SELECT idempotency_key, job_id FROM jobs_state WHERE idempotency_key = ANY(%s)",
                          (keys,)).fetchall()
    out: dict[str, list[int]] = {}
    for r in rows:
        out.setdefault(r["idempotency_key"], []).append(r["job_id"])
    return out


def test_concurrent_batches_sharing_keys_never_500(stack: Stack) -> None:
    """Eight threads post overlapping batches whose keys come in different orders (so their inserts
    collide and can deadlock in Postgres): no answer is a 5xx, and each key ends up with one job."""
    prefix = uuid.uuid4().hex[:8]
    keys = [f"{prefix}-{n}" for n in range(60)]
    answers: list[httpx.Response] = []
    broken: list[str] = []  # a 500 can also surface as a dropped connection
    lock = threading.Lock()

    def post_batches(seed: int) -> None:
        rnd = random.Random(seed)
        with stack.client() as c:
            for _ in range(3):
                mine = rnd.sample(keys, 40)
                # The same key always carries the same job: these are true repeats, never conflicts.
                jobs = [{"code": f"return {k.split('-')[1]}", "idempotency_key": k} for k in mine]
                try:
                    r = c.post("/api/jobs/batch", json={"jobs": jobs})
                except httpx.HTTPError as exc:
                    with lock:
                        broken.append(repr(exc))
                    continue
                with lock:
                    answers.append(r)

    threads = [threading.Thread(target=post_batches, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert not broken, broken
    assert len(answers) == 24
    seen: dict[str, int] = {}
    for r in answers:
        assert r.status_code < 500, r.text
        if r.status_code == 409:  # allowed: contended past every retry, nothing written, a clear problem
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "idempotency key" in r.json()["detail"]
            continue
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["errors"] == []
        for job, job_id in zip(json.loads(r.request.content)["jobs"], body["ids"], strict=True):
            assert seen.setdefault(job["idempotency_key"], job_id) == job_id, "one key, one job, in every answer"
    assert sum(r.status_code == 201 for r in answers) >= 20, [r.status_code for r in answers]
    stored = _jobs_with_keys(stack, keys)
    assert all(len(ids) == 1 for ids in stored.values()), "a key never makes two jobs"
    for k, job_id in seen.items():
        assert stored[k] == [job_id]


def test_idempotency_key_header_returns_the_first_job(stack: Stack) -> None:
    key = f"hdr-{uuid.uuid4()}"
    body = {"code": "return payload.n * 2", "payload": {"n": 21}}
    before = count_jobs(stack)
    with stack.client() as c:
        first = c.post("/api/jobs", json=body, headers={"Idempotency-Key": key})
        again = c.post("/api/jobs", json=body, headers={"Idempotency-Key": key})
        in_body = c.post("/api/jobs", json={**body, "idempotency_key": key})
    assert first.status_code == 201, first.text
    assert first.json()["idempotency_key"] == key
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["job_id"] == first.json()["job_id"]
    assert in_body.status_code == 200 and in_body.json()["job_id"] == first.json()["job_id"]
    after = count_jobs(stack)
    assert after[0] == before[0] + 1 and after[2] == before[2] + 1, "the repeats created nothing"


def test_reused_key_with_a_different_body_is_409_naming_the_fields(stack: Stack) -> None:
    key = f"diff-{uuid.uuid4()}"
    body = {"code": "return payload", "payload": {"a": 1}, "timeout_ms": 5000}
    with stack.client() as c:
        first = c.post("/api/jobs", json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201
        before = count_jobs(stack)
        r = c.post("/api/jobs", json={**body, "payload": {"a": 2}, "timeout_ms": 6000},
                   headers={"Idempotency-Key": key})
        assert r.status_code == 409, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["differs"] == ["payload", "timeout_ms"]
        assert "payload, timeout_ms differ" in problem["detail"] and key in problem["detail"]
        assert problem["job_id"] == first.json()["job_id"]
        code = c.post("/api/jobs", json={**body, "code": "return 2"}, headers={"Idempotency-Key": key})
        assert code.status_code == 409 and code.json()["differs"] == ["code"]
        # A different trace is the same request retried: not a conflict.
        traced = c.post("/api/jobs", json=body, headers={"Idempotency-Key": key, "X-Trace-Id": "another"})
        assert traced.status_code == 200 and traced.json()["job_id"] == first.json()["job_id"]
        after = count_jobs(stack)  # events move on as the first job runs; jobs and messages must not
        assert (after[0], after[2]) == (before[0], before[2]), "a refused reuse writes nothing"
        # Two different keys for one request are refused, not guessed between.
        both = c.post("/api/jobs", json={**body, "idempotency_key": "a"}, headers={"Idempotency-Key": "b"})
        assert both.status_code == 422 and "differ" in both.json()["detail"]
        long = c.post("/api/jobs", json=body, headers={"Idempotency-Key": "k" * 201})
        assert long.status_code == 422 and "Idempotency-Key" in long.json()["detail"]


def test_batch_reports_a_reused_key_per_item(stack: Stack) -> None:
    key = f"batch-{uuid.uuid4()}"
    with stack.client() as c:
        first = c.post("/api/jobs", json={"code": "return 1", "idempotency_key": key}).json()
        r = c.post("/api/jobs/batch", json={"jobs": [
            {"code": "return 1", "idempotency_key": key},  # a true repeat: the first job
            {"code": "return 2", "idempotency_key": key},  # the same key for another job: refused
            {"code": "return 3"},
            {"code": "return 4", "idempotency_key": key + "-x"},
            {"code": "return 5", "idempotency_key": key + "-x"},  # conflicts with the item before it
        ]})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert body["ids"][0] == first["job_id"]
    assert body["ids"][1] is None and body["ids"][4] is None
    assert body["ids"][2] is not None and body["ids"][3] is not None
    assert [e["index"] for e in body["errors"]] == [1, 4]
    assert "code differ" in body["errors"][0]["error"] and key in body["errors"][0]["error"]
    assert _jobs_with_keys(stack, [key, key + "-x"]) == {key: [first["job_id"]], key + "-x": [body["ids"][3]]}


def test_saved_worker_run_takes_the_header(stack: Stack) -> None:
    with stack.client() as c:
        w = c.post("/api/workers", json={"name": f"idem-{uuid.uuid4().hex[:8]}", "code": "return payload"}).json()
        key = f"run-{uuid.uuid4()}"
        first = c.post(f"/api/workers/{w['worker_id']}/run", json={"payload": 1}, headers={"Idempotency-Key": key})
        again = c.post(f"/api/workers/{w['worker_id']}/run", json={"payload": 1}, headers={"Idempotency-Key": key})
        other = c.post(f"/api/workers/{w['worker_id']}/run", json={"payload": 2}, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["job_id"] == first.json()["job_id"]
    assert other.status_code == 409 and other.json()["differs"] == ["payload"]
