"""Property-based: schemathesis generates requests from the app's own OpenAPI; none may answer 5xx.

Deterministic (hypothesis' derandomize): what this finds, it finds on every run, not one run in three.
Three things make it reach the code where 500s hide instead of stopping at a 404 or a 422:
- valid requests name resources that exist half of the time (a saved worker, a job, a queue, a
  dead letter), so a generated body reaches validation and Postgres behind `/{worker_id}/run`;
- about half of the valid bodies get one hostile value planted in a string, key or value: what
  the schema allows but Postgres or UTF-8 refuse (NUL, lone surrogates, integers past 64 bits),
  which random generation hits a couple of times in 300 examples;
- routes that take a body get several times more examples than the others.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from tests.conftest import TOKEN, Stack, start_stack, stop_stack_proc

# The event stream never ends by design (it has its own test); waiting is valid but slow.
SKIP_PATHS = {"/api/events"}
# Examples per operation and mode; DYMUNIM_FUZZ_SCALE=10 multiplies them for a deep run by hand.
SCALE = float(os.environ.get("DYMUNIM_FUZZ_SCALE", "1"))
BODY_EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 300, schemathesis.GenerationMode.NEGATIVE: 100}
OTHER_EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 60, schemathesis.GenerationMode.NEGATIVE: 40}
HOSTILE: list[Any] = ["\x00", "a\x00b", "\ud800", "x\udfff", "\ud83d\x00", 2**64, -(2**70), 1e308]


def plant(body: Any, poison: Any, where: int) -> Any:
    """The body with `poison` at one of its slots: inside a string, as a key, or as a value."""
    slots: list[tuple[Any, Any, str]] = []  # (container, key or index, how)

    def walk(value: Any) -> None:
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for k, v in items:
            slots.append((value, k, "value"))
            if isinstance(k, str):
                slots.append((value, k, "key"))
            walk(v)

    walk(body)
    if not slots:
        return body
    container, k, how = slots[where % len(slots)]
    text = isinstance(poison, str)
    if how == "key" and text:
        container[f"{k}{poison}"] = container.pop(k)
    elif text and isinstance(container[k], str):
        container[k] = container[k][: len(container[k]) // 2] + poison + container[k][len(container[k]) // 2 :]
    else:
        container[k] = poison
    return body


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("fuzz"))
    yield s
    stop_stack_proc(s.proc)


def existing_resources(stack: Stack) -> dict[str, Any]:
    """Path parameter values that name real things, by parameter name."""
    with stack.client() as c:
        worker = c.post("/api/workers", json={"name": "fuzz-worker", "code": "return payload"}).json()
        job = stack.submit({"code": "return 1"})
        # A user error with retry_on_error and one attempt goes dead: a dead letter to replay.
        stack.submit({"code": "throw new Error('to the dead letters')", "retry_on_error": True, "max_attempts": 1})
        for _ in range(100):
            dead = c.get("/api/dead-letters").json()["messages"]
            if dead:
                break
            time.sleep(0.1)
    assert dead, "no dead letter to fuzz the replay with"
    return {"worker_id": worker["worker_id"], "job_id": job["job_id"], "name": "jobs", "msg_id": dead[0]["msg_id"]}


def fuzz(stack: Stack, op: Any, mode: schemathesis.GenerationMode, real: dict[str, Any]) -> None:
    """Positive (valid per the schema) and negative (breaks it) requests: neither may get a 5xx."""
    positive = mode is schemathesis.GenerationMode.POSITIVE

    @given(case=op.as_strategy(generation_mode=mode), use_real_ids=st.booleans(),
           poison=st.one_of(st.none(), st.sampled_from(HOSTILE)), slot=st.integers(0, 2**16))
    @settings(max_examples=int(SCALE * (BODY_EXAMPLES if op.body else OTHER_EXAMPLES)[mode]), deadline=None,
              suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    def check(case: schemathesis.Case, use_real_ids: bool, poison: Any, slot: int) -> None:
        if case.query:
            case.query.pop("wait", None)
        if positive and use_real_ids and case.path_parameters:
            case.path_parameters.update({k: v for k, v in real.items() if k in case.path_parameters})
        auth = {"Authorization": f"Bearer {TOKEN}"}
        if positive and poison is not None and isinstance(case.body, dict | list):
            # Sent as JSON text with \uXXXX escapes: a lone surrogate cannot travel as UTF-8 bytes.
            body = plant(copy.deepcopy(case.body), poison, slot)
            where = f"{case.method} {case.formatted_path} {case.query} {json.dumps(body)[:300]}"
            r = httpx.request(case.method, stack.url + case.formatted_path, params=case.query,
                              headers={**auth, "content-type": "application/json"}, content=json.dumps(body),
                              timeout=30)
            status, ctype, text = r.status_code, r.headers.get("content-type", ""), r.text
        else:
            where = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:300]!r}"
            response = case.call(base_url=stack.url, headers=auth, timeout=30)
            status, text = response.status_code, response.text
            ctype = (response.headers.get("content-type") or [""])[0]
        assert status < 500, f"{where}: {status} {text[:500]}"
        if status >= 400 and case.path not in ("/health",):
            assert ctype.startswith("application/problem+json"), f"{where}: {ctype} {text[:300]}"
        assert "Traceback" not in text

    check()


def test_no_input_gets_a_5xx(fuzz_stack: Stack) -> None:
    schema = schemathesis.openapi.from_url(fuzz_stack.url + "/openapi.json")
    real = existing_resources(fuzz_stack)
    checked = []
    started = time.monotonic()
    operations = [r.ok() for r in schema.get_all_operations()]
    for op, mode in [(op, mode) for op in operations for mode in schemathesis.GenerationMode]:
        if op.path in SKIP_PATHS:
            continue
        try:
            fuzz(fuzz_stack, op, mode, real)
        except Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE, op.path
            continue  # nothing about this operation can be made invalid (no parameters, no body)
        checked.append(f"{op.method.upper()} {op.path} {mode.value}")
    assert len(checked) >= 25, checked
    print(f"fuzzed {len(checked)} operation modes in {time.monotonic() - started:.0f} s")
