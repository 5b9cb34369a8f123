"""Check a workflow call's step reports as the executor sent them (the trust boundary, again).

The job's code ran next to the code that wrote the reports: names, results, errors, times and retry
policies are all checked here before the recorder stores any of them. A report that breaks the shape
fails the run (ExecutorProtocolError); a step result that cannot be stored fails that step.
"""

from __future__ import annotations

import math
from typing import Any

from dymunim.domain import unstorable
from dymunim.execute.contract import dumps

MAX_NAME = 200
MAX_WAIT_MS = 365 * 24 * 3600 * 1000  # Cloudflare Workflows' limit on a sleep
BACKOFFS = ("constant", "linear", "exponential")
# Epoch milliseconds Postgres and Python both hold (years 1970..9999).
MAX_EPOCH_MS = 253_402_300_799_000


class ReportError(ValueError):
    """The reports break the contract's shape."""


def _name(v: Any, what: str) -> str:
    if not isinstance(v, str) or not 0 < len(v) <= MAX_NAME or unstorable(v):
        raise ReportError(f"{what} is not text of 1..{MAX_NAME} characters Postgres can store")
    return v


def _ms(v: Any, what: str, low: int = 0, high: int = MAX_WAIT_MS) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
        raise ReportError(f"{what} is not a whole number of milliseconds from {low} to {high}")
    return v


def _retries(v: Any) -> dict[str, Any]:
    if v is None:
        return {"limit": 0, "delay_ms": 0, "backoff": "constant"}
    if not isinstance(v, dict):
        raise ReportError("a step's retries is not an object")
    limit = v.get("limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 1000:
        raise ReportError("a step's retries.limit is not a whole number from 0 to 1000")
    if v.get("backoff") not in BACKOFFS:
        raise ReportError("a step's retries.backoff is not constant, linear or exponential")
    return {"limit": limit, "delay_ms": _ms(v.get("delay_ms"), "retries.delay_ms"), "backoff": v["backoff"]}


def _error(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict) or not isinstance(v.get("name"), str) or not isinstance(v.get("message"), str):
        raise ReportError("a failed step has no {name, message} error")
    stack = v.get("stack")
    clean = {"name": v["name"][:200] or "Error", "message": v["message"][:65_536],
             "stack": stack[:65_536] if isinstance(stack, str) else None}
    if unstorable(clean):
        clean = {k: (x.replace("\x00", "\ufffd").encode("utf-8", "replace").decode() if isinstance(x, str) else x)
                 for k, x in clean.items()}
    return clean


def _do(r: dict[str, Any], name: str, max_result_bytes: int) -> dict[str, Any]:
    d = r.get("duration_ms")
    duration = float(d) if isinstance(d, int | float) and not isinstance(d, bool) and d >= 0 and math.isfinite(d) \
        else 0.0
    timeout = r.get("timeout_ms")
    out: dict[str, Any] = {"kind": "do", "name": name, "duration_ms": duration, "retries": _retries(r.get("retries")),
                           "timeout_ms": None if timeout is None else _ms(timeout, "a step's timeout_ms", 1)}
    ok = r.get("ok")
    if ok is True:
        result = r.get("result")
        if problem := unstorable(result):
            return {**out, "ok": False, "error": {"name": "ResultError", "stack": None,
                                                  "message": f"step {name!r} returned a result that {problem}"}}
        if (size := len(dumps(result))) > max_result_bytes:
            return {**out, "ok": False, "error": {
                "name": "ResultError", "stack": None,
                "message": f"step {name!r} returned {size} bytes as JSON, over the limit of {max_result_bytes} "
                           "bytes (max_result_bytes)"}}
        return {**out, "ok": True, "result": result}
    if ok is False:
        return {**out, "ok": False, "error": _error(r.get("error"))}
    raise ReportError("a step's ok is not a boolean")


def checked(raw: Any, ok: bool, max_result_bytes: int) -> dict[str, Any]:
    """The workflow part of an outcome, checked: {steps: [...], suspended}. ReportError says what is wrong."""
    if not isinstance(raw, dict) or not isinstance(raw.get("suspended"), bool) \
            or not isinstance(raw.get("steps"), list):
        raise ReportError("workflow is not {steps: [...], suspended}")
    steps: list[dict[str, Any]] = []
    for r in raw["steps"]:
        if not isinstance(r, dict):
            raise ReportError("a step report is not an object")
        name = _name(r.get("name"), "a step's name")
        kind = r.get("kind")
        if kind == "do":
            steps.append(_do(r, name, max_result_bytes))
        elif kind == "sleep":
            until = r.get("until_ms")
            if not isinstance(until, int | float) or isinstance(until, bool) or not 0 <= until <= MAX_EPOCH_MS:
                raise ReportError("a sleep's until_ms is not a time between 1970 and 9999 in epoch milliseconds")
            steps.append({"kind": "sleep", "name": name, "until_ms": float(until)})
        elif kind == "wait":
            steps.append({"kind": "wait", "name": name, "event_type": _name(r.get("event_type"), "a wait's event_type"),
                          "timeout_ms": _ms(r.get("timeout_ms"), "a wait's timeout_ms")})
        else:
            raise ReportError("a step's kind is not do, sleep or wait")
    dos = sum(1 for s in steps if s["kind"] == "do")
    if dos > 1 or len(steps) - dos > 1:
        raise ReportError("a call reported more than one new step.do, or more than one sleep or wait")
    if len({s["name"] for s in steps}) != len(steps):
        raise ReportError("a call reported the same step name twice")
    if raw["suspended"] and (not ok or not steps):
        raise ReportError("a suspended run reported no step, or failed")
    return {"steps": steps, "suspended": raw["suspended"]}
