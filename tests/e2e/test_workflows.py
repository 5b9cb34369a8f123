"""Durable workflows on the whole system (real Postgres, real workerd, real processes).

A run's steps pass values along and each runs once; killing the dispatcher again and again while a
step runs never runs a completed step again; a sleeping run holds no slot and wakes on time; a waiting
run takes the event sent to it, or times out; a failing step retries with its own backoff."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_crash import wait_for


@pytest.fixture(scope="module")
def wf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("workflows"))
    yield s
    stop_stack_proc(s.proc)


def post(s: Stack, path: str, body: Any, status: int = 201) -> Any:
    with s.client() as c:
        r = c.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


def get(s: Stack, path: str, **params: Any) -> Any:
    with s.client() as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def job(s: Stack, job_id: int) -> dict[str, Any]:
    out: dict[str, Any] = get(s, f"/api/jobs/{job_id}")
    return out


def until_status(s: Stack, job_id: int, *statuses: str, timeout: float = 60) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(lambda: (j := job(s, job_id))["status"] in statuses and j,
                                     timeout=timeout, what=f"job {job_id} to be {'/'.join(statuses)}")
    return found


FIVE_STEPS = """
export default {
  async run(event, step) {
    const a = await step.do("one", async () => event.payload.start + 1);
    const b = await step.do("two", async () => a * 2);
    const c = await step.do("three", async () => ({ sum: a + b }));
    const d = await step.do("four", async () => [c.sum, "x"]);
    const e = await step.do("five", async () => d.concat([event.id === Number(event.instanceId)]));
    return { a, b, c, d, e, at: event.timestamp instanceof Date };
  }
}
"""


def test_a_five_step_run_passes_values_along_and_records_each_step_once(wf: Stack) -> None:
    j = post(wf, "/api/jobs", {"code": FIVE_STEPS, "payload": {"start": 1}})
    done = until_status(wf, j["job_id"], "succeeded", "failed", "dead")
    assert done["status"] == "succeeded", done
    assert done["result"] == {"a": 2, "b": 4, "c": {"sum": 6}, "d": [6, "x"], "e": [6, "x", True], "at": True}
    steps = done["step_history"]
    assert [st["name"] for st in steps] == ["one", "two", "three", "four", "five"]
    assert [st["seq"] for st in steps] == [1, 2, 3, 4, 5]
    assert all(st["status"] == "completed" and st["attempts"] == 1 and st["kind"] == "do" for st in steps), steps
    assert steps[2]["result"] == {"sum": 6}
    assert done["steps"] == 5
    assert done["attempt_history"] == [] or all(a["outcome"] == "succeeded" for a in done["attempt_history"])
