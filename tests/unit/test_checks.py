"""record/checks.py: what the recorder accepts from the executor, checked without any server."""

from __future__ import annotations

from typing import Any

from dymunim.execute.contract import ExecJob
from dymunim.record.checks import checked

JOB: ExecJob = {"code": "", "max_log_lines": 3, "max_log_bytes": 100, "max_result_bytes": 50}


def outcome(**kw: Any) -> dict[str, Any]:
    return {"ok": True, "result": 1, "error": None, "logs": [], "logs_truncated": False, "duration_ms": 2.5,
            "cold": False} | kw


def line(message: str, level: str = "log") -> dict[str, str]:
    return {"level": level, "at": "2026-11-26T00:00:00.000Z", "message": message}


def test_a_well_formed_outcome_passes_unchanged() -> None:
    o = outcome(result={"a": [1, "x"]}, logs=[line("hi")])
    assert checked(o, JOB, lenient_text=False) == o


def test_malformed_shapes_fail_that_job_with_a_protocol_error() -> None:
    for bad in ("text", [1], outcome(ok="yes"), outcome(logs="no"), outcome(logs=[{"message": 1}]),
                outcome(ok=False, error=None), outcome(ok=False, error={"name": 1, "message": "m"}),
                outcome(duration_ms=None), outcome(cold=None)):
        got = checked(bad, JOB, lenient_text=False)
        assert got["ok"] is False and got["error"] is not None, bad
        assert got["error"]["name"] == "ExecutorProtocolError", bad
        assert got["result"] is None


def test_result_over_the_limit_is_a_result_error_and_not_kept() -> None:
    got = checked(outcome(result="x" * 60), JOB, lenient_text=False)
    assert got["ok"] is False and got["result"] is None
    assert got["error"] is not None and got["error"]["name"] == "ResultError"
    assert "over the limit of 50 bytes" in got["error"]["message"]


def test_logs_are_capped_again_with_a_marker() -> None:
    many = [line(f"line {i}") for i in range(40)]
    got = checked(outcome(logs=many), JOB, lenient_text=False)
    assert [x["message"] for x in got["logs"][:5]] == [f"line {i}" for i in range(5)]  # 3 + room for 2 notes
    assert got["logs_truncated"] is True
    assert "35 more lines dropped" in got["logs"][-1]["message"]
    big = checked(outcome(logs=[line("y" * 2000)]), JOB, lenient_text=False)
    assert "1 more lines dropped" in big["logs"][-1]["message"] and len(big["logs"]) == 1


def test_unknown_levels_become_log() -> None:
    got = checked(outcome(logs=[line("m", level="shout")]), JOB, lenient_text=False)
    assert got["logs"][0]["level"] == "log"


def test_lone_surrogates_become_replacement_characters_with_a_note() -> None:
    got = checked(outcome(result={"k\ud800": ["\udfff", "ok \U0001F600"]}, logs=[line("x\udc00")]), JOB,
                  lenient_text=True)
    assert got["result"] == {"k\ufffd": ["\ufffd", "ok \U0001F600"]}
    assert got["logs"][0]["message"] == "x\ufffd"
    assert "replaced 3 characters Postgres cannot store" in got["logs"][-1]["message"]
    err = checked(outcome(ok=False, result=None, error={"name": "E\ud800", "message": "m\udfff", "stack": 5}), JOB,
                  lenient_text=True)
    assert err["error"] == {"name": "E\ufffd", "message": "m\ufffd", "stack": None}


def test_nul_fails_a_result_and_becomes_a_replacement_character_in_logs_and_errors() -> None:
    got = checked(outcome(result={"a": "x\x00"}, logs=[line("n\x00l")]), JOB, lenient_text=False)
    assert got["ok"] is False and got["result"] is None
    assert got["error"] is not None and got["error"]["name"] == "ResultError"
    assert "NUL" in got["error"]["message"]
    assert got["logs"][0]["message"] == "n\ufffdl"
    err = checked(outcome(ok=False, result=None, error={"name": "E", "message": "a\x00b", "stack": "s\x00"}), JOB,
                  lenient_text=False)
    assert err["error"] == {"name": "E", "message": "a\ufffdb", "stack": "s\ufffd"}


def enqueue(**kw: Any) -> dict[str, Any]:
    return {"type": "enqueue", "worker_id": None, "code": "return 1", "payload": None, "delay_ms": None,
            "idempotency_key": None} | kw


def test_what_a_job_asks_to_start_is_kept_as_checked() -> None:
    effects = [enqueue(payload={"n": 1}, delay_ms=5), {"type": "publish", "name": "order.paid", "data": [1],
                                                       "idempotency_key": "k"}]
    got = checked(outcome(effects=effects), {**JOB, "max_result_bytes": 10_000}, lenient_text=False)
    assert got["ok"] is True
    assert got.get("effects") == [effects[0], {**effects[1]}]


def test_effects_of_a_failed_job_are_dropped() -> None:
    got = checked(outcome(ok=False, result=None, error={"name": "Error", "message": "m", "stack": None},
                          effects=[enqueue()]), JOB, lenient_text=False)
    assert got["ok"] is False and "effects" not in got


def test_bad_effects_fail_the_job_with_a_chain_error_saying_why() -> None:
    big: ExecJob = {**JOB, "max_result_bytes": 10_000, "max_children": 2}
    cases = {
        "limit is 2": [enqueue(), enqueue(), enqueue()],
        "worker_id or code": [enqueue(code=None)],
        "one of the two": [enqueue(worker_id="w_1")],
        "delay_ms": [enqueue(delay_ms=-1)],
        "NUL": [enqueue(payload="a\x00b")],
        "lone surrogate": [enqueue(code="return '\ud800'")],
        "name": [{"type": "publish", "name": "", "data": None}],
        "neither enqueue nor publish": [{"type": "explode"}],
        "not a list": {"type": "publish"},
    }
    for why, effects in cases.items():
        got = checked(outcome(effects=effects), big, lenient_text=False)
        assert got["ok"] is False and got["result"] is None, why
        assert got["error"] is not None and got["error"]["name"] == "ChainError", why
        assert why in got["error"]["message"], (why, got["error"]["message"])
    too_big = checked(outcome(effects=[enqueue(payload="x" * 100)]), JOB, lenient_text=False)
    assert too_big["error"] is not None and "max_result_bytes" in too_big["error"]["message"]
