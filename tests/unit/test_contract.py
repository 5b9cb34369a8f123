"""The executor contract's one source (contract.schema.json): what it accepts, how it says no, and the
supervisor answering a bad request with it; plus the shared orjson/json helpers. No workerd needed."""

from __future__ import annotations

import json
import re
from typing import Any, get_type_hints

import pytest
from aiohttp.test_utils import TestClient, TestServer

from dymunim import jsonbytes
from dymunim.execute import contract_types
from dymunim.execute.contract import JOB_DEFAULTS, LOG_LEVELS, SCHEMA, ContractError, validator
from dymunim.execute.supervisor import build_app
from dymunim.submit.spec import JobSpec

check_job = validator("Job")
check_batch = validator("BatchRequest")
check_outcome = validator("Outcome", "outcome")
check_line = validator("BatchLine", "line")

GOOD_JOB: dict[str, Any] = {
    "code": "return payload.i + 1", "payload": {"i": 1, "big": 2**70}, "cache_id": "w:abc-1.2_x",
    "timeout_ms": 1500, "max_log_lines": 0, "max_log_bytes": 65_536, "max_result_bytes": 1_048_576,
    "trace_id": None, "job_id": 7, "attempt": 1,
}
GOOD_OUTCOME: dict[str, Any] = {
    "ok": False, "result": None, "error": {"name": "TypeError", "message": "x is not a function", "stack": None},
    "logs": [{"level": "warn", "at": "2026-11-26T00:00:00.000Z", "message": "careful"}],
    "logs_truncated": False, "duration_ms": 2.5, "cold": True,
}


def reason(check: Any, value: Any) -> str:
    with pytest.raises(ContractError) as info:
        check(value)
    return str(info.value)


def test_well_formed_messages_pass() -> None:
    check_job(GOOD_JOB)
    check_job({"code": "return 1"})
    check_batch({"jobs": [GOOD_JOB, {"code": "return 2"}]})
    check_batch({"jobs": []})
    check_outcome(GOOD_OUTCOME)
    check_outcome(GOOD_OUTCOME | {"ok": True, "result": {"a": [1, "x"]}, "error": None, "logs": []})
    check_line(GOOD_OUTCOME | {"index": 3})


def test_what_json_allows_passes_too() -> None:
    check_job({"code": "\ud800", "payload": ["\udfff", 2**70, 1e300], "job_id": 2**70, "timeout_ms": 2.0})


def test_a_check_never_changes_what_it_checks() -> None:
    job = {"code": "return 1"}
    check_job(job)
    assert job == {"code": "return 1"}, "the schema's defaults are not written into the job"


@pytest.mark.parametrize(("check", "value", "message"), [
    (check_job, [1], "body must be object"),
    (check_job, {"payload": 1}, "body must contain ['code'] properties"),
    (check_job, {"code": ""}, "code must be longer than or equal to 1 characters"),
    (check_job, {"code": 5}, "code must be string"),
    (check_job, {"code": "x", "timeout_ms": 0}, "timeout_ms must be bigger than or equal to 1"),
    (check_job, {"code": "x", "timeout_ms": True}, "timeout_ms must be integer"),
    (check_job, {"code": "x", "timeout_ms": 1.5}, "timeout_ms must be integer"),
    (check_job, {"code": "x", "max_log_bytes": -1}, "max_log_bytes must be bigger than or equal to 0"),
    (check_job, {"code": "x", "cache_id": 5}, "cache_id must be string or null"),
    (check_job, {"code": "x", "cache_id": ""}, "cache_id must be longer than or equal to 1 characters"),
    (check_job, {"code": "x", "cache_id": "x" * 201}, "cache_id must be shorter than or equal to 200 characters"),
    (check_job, {"code": "x", "cache_id": "a b"}, "cache_id must match pattern ^[A-Za-z0-9_.:-]+$"),
    (check_job, {"code": "x", "job_id": "7"}, "job_id must be integer or null"),
    (check_job, {"code": "x", "cache_id": "\ud800"}, "cache_id must match pattern ^[A-Za-z0-9_.:-]+$"),
    (check_batch, {"jobs": "no"}, "jobs must be array"),
    (check_batch, {}, "body must contain ['jobs'] properties"),
    (check_batch, {"jobs": [{"code": "x"}, {"code": "y", "timeout_ms": 0}]},
     "jobs[1].timeout_ms must be bigger than or equal to 1"),
    (check_batch, {"jobs": [{"code": "x"}, 3]}, "jobs[1] must be object"),
    (check_outcome, GOOD_OUTCOME | {"ok": "yes"}, "ok must be boolean"),
    (check_outcome, GOOD_OUTCOME | {"logs": [{"level": "shout", "at": "t", "message": "m"}]},
     "logs[0].level must be one of ['log', 'info', 'warn', 'error', 'debug']"),
    (check_outcome, GOOD_OUTCOME | {"error": {"name": "E", "message": "m"}},
     "error must be JobError or null (error must contain ['stack'] properties)"),
    (check_outcome, GOOD_OUTCOME | {"error": "boom"}, "error must be JobError or null"),
    (check_outcome, {k: v for k, v in GOOD_OUTCOME.items() if k != "cold"}, "outcome must contain ['cold'] properties"),
    (check_line, GOOD_OUTCOME, "line must contain ['index'] properties"),
    (check_line, GOOD_OUTCOME | {"index": -1}, "index must be bigger than or equal to 0"),
])
def test_bad_messages_are_refused_naming_the_field(check: Any, value: Any, message: str) -> None:
    assert reason(check, value) == message


def test_the_public_api_and_the_executor_agree_on_cache_id() -> None:
    cache_id = SCHEMA["definitions"]["Job"]["properties"]["cache_id"]
    meta = JobSpec.model_fields["cache_id"].metadata
    assert any(getattr(m, "max_length", None) == cache_id["maxLength"] == 200 for m in meta)
    assert any(getattr(m, "pattern", None) == cache_id["pattern"] for m in meta)


def test_generated_types_follow_the_schema() -> None:
    for name in ("Job", "BatchRequest", "LogLine", "JobError", "Outcome", "Effect", "Problem"):
        assert set(get_type_hints(getattr(contract_types, name))) == set(SCHEMA["definitions"][name]["properties"])
    assert JOB_DEFAULTS == {"timeout_ms": 30_000, "max_log_lines": 1000, "max_log_bytes": 65_536,
                            "max_result_bytes": 1_048_576, "max_children": 100}
    assert LOG_LEVELS == {"log", "info", "warn", "error", "debug"}


class _NoPool:
    """Requests refused by the contract never reach the pool."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the pool was used ({name}) for a request the contract refuses")


@pytest.mark.parametrize(("path", "body", "status", "error"), [
    ("/load", {"payload": 1}, 400, "body must contain ['code'] properties"),
    ("/load", {"code": "return 1", "timeout_ms": -5}, 400, "timeout_ms must be bigger than or equal to 1"),
    ("/get", {"code": "return 1"}, 400, "cache_id is required for /get"),
    ("/get", {"code": "return 1", "cache_id": "x" * 201}, 400,
     "cache_id must be shorter than or equal to 200 characters"),
    ("/batch", {"jobs": "no"}, 400, "jobs must be array"),
    ("/batch", {"jobs": [{"code": "return 1"}, {"code": "return 2", "cache_id": "a b"}]}, 400,
     "jobs[1].cache_id must match pattern ^[A-Za-z0-9_.:-]+$"),
    ("/batch", "not json", 400, "body is not valid JSON"),
    ("/batch", "NaN", 400, "body is not valid JSON"),
])
async def test_the_supervisor_answers_a_bad_request_with_what_is_wrong(
    path: str, body: Any, status: int, error: str
) -> None:
    app = build_app(_NoPool(), "tok")  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        data = body.encode() if isinstance(body, str) else jsonbytes.dumps(body)
        resp = await client.post(path, data=data, headers={"Authorization": "Bearer tok"})
        assert resp.status == status
        assert (await resp.json())["error"] == error


def test_dumps_falls_back_for_what_orjson_refuses() -> None:
    assert jsonbytes.dumps({"a": 1, "b": [None, "é"]}) == '{"a":1,"b":[null,"é"]}'.encode()
    assert json.loads(jsonbytes.dumps({"n": 2**70})) == {"n": 2**70}
    assert json.loads(jsonbytes.dumps({"s": "\ud800"})) == {"s": "\ud800"}
    with pytest.raises(TypeError):
        jsonbytes.dumps({"x": object()})
    assert re.fullmatch(rb'\{"x": "<object object at 0x[0-9a-f]+>"\}', jsonbytes.dumps({"x": object()}, default=str))


def test_loads_falls_back_and_says_when() -> None:
    assert jsonbytes.loads(b'{"n": 1}') == {"n": 1}
    assert jsonbytes.loads(b'{"s": "\\ud800"}') == {"s": "\ud800"}
    for bad in (b"NaN", b'{"x": Infinity}', b"{", b""):
        with pytest.raises(ValueError):
            jsonbytes.loads(bad)
    assert jsonbytes.loads_flagged(b'{"n": 1}') == ({"n": 1}, False)
    assert jsonbytes.loads_flagged(b'["\\ud800"]') == (["\ud800"], True)
    with pytest.raises(ValueError):
        jsonbytes.loads_flagged(b"[NaN]")
    value, lenient = jsonbytes.loads_flagged(b"[NaN]", constants=True)
    assert lenient and value[0] != value[0]
