"""A workflow call's reports are untrusted: the recorder's own checks, the step backoffs, the replay state."""

from __future__ import annotations

from typing import Any

import pytest

from dymunim.workflow import replay
from dymunim.workflow.progress import retry_delay_ms
from dymunim.workflow.reports import ReportError, checked

RETRIES = {"limit": 3, "delay_ms": 1000, "backoff": "exponential"}


def do(**kw: Any) -> dict[str, Any]:
    return {"kind": "do", "name": "a", "ok": True, "result": 1, "duration_ms": 2, "retries": RETRIES,
            "timeout_ms": 1000, **kw}


def test_a_good_report_passes_with_its_fields_rebuilt() -> None:
    out = checked({"steps": [do(extra="dropped"), {"kind": "sleep", "name": "s", "until_ms": 1e12}],
                   "suspended": True}, True, 100)
    assert out == {"suspended": True, "steps": [
        {"kind": "do", "name": "a", "ok": True, "result": 1, "duration_ms": 2.0, "retries": RETRIES,
         "timeout_ms": 1000},
        {"kind": "sleep", "name": "s", "until_ms": 1e12}]}


@pytest.mark.parametrize(("raw", "says"), [
    (None, "workflow is not"),
    ({"steps": [], "suspended": "yes"}, "workflow is not"),
    ({"steps": [1], "suspended": False}, "not an object"),
    ({"steps": [do(name="")], "suspended": False}, "name"),
    ({"steps": [do(name="x" * 201)], "suspended": False}, "name"),
    ({"steps": [do(name="a\x00")], "suspended": False}, "name"),
    ({"steps": [do(kind="jump")], "suspended": False}, "kind"),
    ({"steps": [do(ok="yes")], "suspended": False}, "ok is not a boolean"),
    ({"steps": [do(ok=False, error="boom")], "suspended": True}, "error"),
    ({"steps": [do(retries={"limit": -1, "delay_ms": 0, "backoff": "constant"})], "suspended": True}, "limit"),
    ({"steps": [do(retries={"limit": 1, "delay_ms": 0, "backoff": "random"})], "suspended": True}, "backoff"),
    ({"steps": [do(timeout_ms=0)], "suspended": True}, "timeout_ms"),
    ({"steps": [do(), do(name="b")], "suspended": True}, "more than one"),
    ({"steps": [{"kind": "sleep", "name": "s", "until_ms": 1},
                {"kind": "wait", "name": "w", "event_type": "t", "timeout_ms": 1}], "suspended": True},
     "more than one"),
    ({"steps": [do(), {"kind": "sleep", "name": "a", "until_ms": 1}], "suspended": True}, "twice"),
    ({"steps": [{"kind": "sleep", "name": "s", "until_ms": float("inf")}], "suspended": True}, "until_ms"),
    ({"steps": [{"kind": "sleep", "name": "s", "until_ms": 1e20}], "suspended": True}, "until_ms"),
    ({"steps": [{"kind": "wait", "name": "w", "event_type": "", "timeout_ms": 1}], "suspended": True}, "event_type"),
    ({"steps": [{"kind": "wait", "name": "w", "event_type": "t", "timeout_ms": 10**15}], "suspended": True},
     "timeout_ms"),
    ({"steps": [], "suspended": True}, "suspended run reported no step"),
])
def test_a_bad_report_is_refused_saying_what_is_wrong(raw: Any, says: str) -> None:
    with pytest.raises(ReportError, match=says):
        checked(raw, True, 100)


def test_a_suspended_report_on_a_failed_outcome_is_refused() -> None:
    with pytest.raises(ReportError, match="failed"):
        checked({"steps": [do()], "suspended": True}, False, 100)


def test_a_step_result_that_cannot_be_stored_fails_the_step_not_the_report() -> None:
    big = checked({"steps": [do(result="x" * 200)], "suspended": True}, True, 100)["steps"][0]
    assert (big["ok"], big["error"]["name"]) == (False, "ResultError") and "'a'" in big["error"]["message"]
    nul = checked({"steps": [do(result={"k": "\x00"})], "suspended": True}, True, 100)["steps"][0]
    assert (nul["ok"], nul["error"]["name"]) == (False, "ResultError") and "NUL" in nul["error"]["message"]


def test_backoffs_follow_cloudflare_workflows() -> None:
    def delays(backoff: str) -> list[int]:
        return [retry_delay_ms({"delay_ms": 500, "backoff": backoff}, t) for t in (1, 2, 3, 4)]

    assert delays("constant") == [500, 500, 500, 500]
    assert delays("linear") == [500, 1000, 1500, 2000]
    assert delays("exponential") == [500, 1000, 2000, 4000]
    assert retry_delay_ms({"delay_ms": 10**9, "backoff": "exponential"}, 900) == 365 * 24 * 3600 * 1000


def test_the_replay_settles_ended_sleeps_and_timed_out_waits() -> None:
    rows = [
        {"name": "a", "kind": "do", "status": "completed", "result": 1, "error": None, "attempts": 1,
         "until_ms": None, "event_type": None, "due": None},
        {"name": "s", "kind": "sleep", "status": "sleeping", "result": None, "error": None, "attempts": 0,
         "until_ms": 5.0, "event_type": None, "due": True},
        {"name": "w", "kind": "wait", "status": "waiting", "result": None, "error": None, "attempts": 0,
         "until_ms": 9.0, "event_type": "t", "due": True},
        {"name": "z", "kind": "sleep", "status": "sleeping", "result": None, "error": None, "attempts": 0,
         "until_ms": 99.0, "event_type": None, "due": False},
    ]
    steps, settled = replay.state(rows)
    assert [s["status"] for s in steps] == ["completed", "completed", "timed_out", "sleeping"]
    assert settled == (("s", "completed"), ("w", "timed_out"))
    assert steps[3]["until_ms"] == 99.0
