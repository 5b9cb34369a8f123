"""Property-based: schemathesis generates requests from the app's own OpenAPI; none may answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tests.conftest import TOKEN, Stack, start_stack, stop_stack_proc

# The event stream never ends by design (it has its own test); waiting is valid but slow.
SKIP_PATHS = {"/api/events"}


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("fuzz"))
    yield s
    stop_stack_proc(s.proc)


def test_no_input_gets_a_5xx(fuzz_stack: Stack) -> None:
    schema = schemathesis.openapi.from_url(fuzz_stack.url + "/openapi.json")
    checked = []
    operations = [r.ok() for r in schema.get_all_operations()]
    for op, mode in [(op, mode) for op in operations for mode in schemathesis.GenerationMode]:
        if op.path in SKIP_PATHS:
            continue

        # Positive (valid per the schema) and negative (breaks it) requests: neither may get a 5xx.
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            if case.query:
                case.query.pop("wait", None)
            response = case.call(base_url=fuzz_stack.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            where = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:500]}"
            if response.status_code >= 400 and case.path not in ("/health",):
                ctype = (response.headers.get("content-type") or [""])[0]
                assert ctype.startswith("application/problem+json"), f"{where}: {ctype} {response.text[:300]}"
            assert "Traceback" not in response.text

        try:
            check()
        except Unsatisfiable:
            assert mode is schemathesis.GenerationMode.NEGATIVE, op.path
            continue  # nothing about this operation can be made invalid (no parameters, no body)
        checked.append(f"{op.method.upper()} {op.path} {mode.value}")
    assert len(checked) >= 25, checked
