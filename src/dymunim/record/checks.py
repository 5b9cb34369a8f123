"""Check one outcome as the executor sent it, before anything of it is stored.

The executor is a separate service (on Cloudflare, or workerd locally) and the job's code ran
next to the code that produced the outcome, so the recorder trusts nothing about its shape or
size: each field is checked, the result and log limits are applied again here, and strings are
made storable (Postgres `jsonb` refuses NULs and unpaired UTF-16 surrogates: text meant for people
gets U+FFFD, a result holding a NUL fails). A bad outcome becomes a clear failure of that job alone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from dymunim.domain import unstorable
from dymunim.execute.contract import JOB_DEFAULTS, LOG_LEVELS, ExecJob, JobError, LogLine, Outcome, dumps
from dymunim.workflow import reports

_SURROGATE = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_ERROR_TEXT = 65_536
MAX_EFFECT_NAME = 200
MAX_DELAY_MS = 366 * 24 * 3600 * 1000
NOTE_LINES = 2
NOTE_BYTES = 512


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Repairs:
    __slots__ = ("replaced",)

    def __init__(self) -> None:
        self.replaced = 0

    def text(self, s: str) -> str:
        """Text meant for people (logs, errors): NULs and unpaired surrogates become U+FFFD."""
        fixed, n = _UNSTORABLE.subn("\ufffd", s)
        self.replaced += n
        return fixed

    def deep(self, v: Any) -> Any:
        """A result's strings: unpaired surrogates become U+FFFD (a NUL fails the result instead)."""
        if isinstance(v, str):
            fixed, n = _SURROGATE.subn("\ufffd", v)
            self.replaced += n
            return fixed
        if isinstance(v, list):
            return [self.deep(x) for x in v]
        if isinstance(v, dict):
            return {self.deep(k): self.deep(x) for k, x in v.items()}
        return v


def _failed(name: str, message: str, duration_ms: float | None, cold: bool | None,
            logs: list[LogLine] | None = None) -> Outcome:
    return {
        "ok": False, "result": None, "error": {"name": name, "message": message, "stack": None},
        "logs": logs or [], "logs_truncated": False,
        "duration_ms": duration_ms if duration_ms is not None else 0.0, "cold": bool(cold),
    }


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 else None


def _text(e: dict[str, Any], key: str, required: bool = False) -> str | None:
    v = e.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not 0 < len(v) <= MAX_EFFECT_NAME or _UNSTORABLE.search(v):
        raise ValueError(f"{key} must be text of 1..{MAX_EFFECT_NAME} characters without NUL or lone surrogates")
    return v


def _effect(e: Any, fix: _Repairs) -> dict[str, Any]:
    """One effect as the recorder will use it; ValueError says what is wrong with it."""
    if not isinstance(e, dict):
        raise ValueError("an effect is not an object")
    key = _text(e, "idempotency_key")
    if e.get("type") == "enqueue":
        worker_id, code = _text(e, "worker_id"), e.get("code")
        if code is not None and (not isinstance(code, str) or not code.strip() or _UNSTORABLE.search(code)):
            raise ValueError("ctx.enqueue: code must be non-blank text without NUL or lone surrogate characters")
        if (worker_id is None) == (code is None):
            raise ValueError("ctx.enqueue needs worker_id or code, one of the two")
        delay = e.get("delay_ms")
        if delay is not None and (not isinstance(delay, int) or isinstance(delay, bool)
                                  or not 0 <= delay <= MAX_DELAY_MS):
            raise ValueError(f"ctx.enqueue: delay_ms must be a whole number of milliseconds, 0..{MAX_DELAY_MS}")
        payload = fix.deep(e.get("payload"))
        if problem := unstorable(payload):
            raise ValueError(f"ctx.enqueue: payload {problem}")
        return {"type": "enqueue", "worker_id": worker_id, "code": code, "payload": payload, "delay_ms": delay,
                "idempotency_key": key}
    if e.get("type") == "publish":
        data = fix.deep(e.get("data"))
        if problem := unstorable(data):
            raise ValueError(f"ctx.publish: data {problem}")
        return {"type": "publish", "name": _text(e, "name", required=True), "data": data, "idempotency_key": key}
    raise ValueError("an effect's type is neither enqueue nor publish")


def _effects(raw: Any, job: ExecJob, fix: _Repairs) -> list[dict[str, Any]]:
    """What the job asked to start, checked; ValueError (the job fails with ChainError) says why not."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("effects is not a list")
    limit = job.get("max_children", JOB_DEFAULTS["max_children"])
    if len(raw) > limit:
        raise ValueError(f"the job asked to start {len(raw)} jobs and events; the limit is {limit} "
                         "(DYMUNIM_MAX_CHILDREN)")
    out = [_effect(e, fix) for e in raw]
    if (size := len(dumps(out))) > job.get("max_result_bytes", JOB_DEFAULTS["max_result_bytes"]):
        raise ValueError(f"what the job asked to start is {size} bytes as JSON, over the limit of "
                         f"{job.get('max_result_bytes')} bytes (max_result_bytes)")
    return out


def checked(raw: Any, job: ExecJob, *, lenient_text: bool) -> Outcome:
    """The outcome to record for `raw` (one parsed outcome object). Never raises.

    `lenient_text`: the line needed the standard library's parser (orjson refused it), so the result
    may hold unpaired surrogates and is repaired (logs and errors are always scanned).
    """
    if not isinstance(raw, dict):
        return _failed("ExecutorProtocolError", f"the executor sent a {type(raw).__name__}, not an outcome object",
                       None, None)
    duration = _number(raw.get("duration_ms"))
    cold = raw.get("cold") if isinstance(raw.get("cold"), bool) else None
    ok, logs, error = raw.get("ok"), raw.get("logs"), raw.get("error")
    problem = None
    if not isinstance(ok, bool):
        problem = "ok is not a boolean"
    elif not isinstance(logs, list) or not all(
        isinstance(x, dict) and isinstance(x.get("message"), str) and isinstance(x.get("at"), str) for x in logs
    ):
        problem = "logs is not a list of {level, at, message}"
    elif not ok and not (isinstance(error, dict) and isinstance(error.get("name"), str)
                         and isinstance(error.get("message"), str)):
        problem = "a failed outcome has no {name, message} error"
    elif duration is None or cold is None:
        problem = "duration_ms or cold is missing"
    if problem is not None:
        return _failed("ExecutorProtocolError", f"the executor's outcome is malformed: {problem}", duration, cold)
    assert isinstance(logs, list) and isinstance(ok, bool)

    fix = _Repairs()
    result = raw.get("result") if ok else None
    if lenient_text:
        result = fix.deep(result)
    # Room for the executor's own notes (a truncation marker, a repair note) past the job's limits.
    max_lines = job.get("max_log_lines", JOB_DEFAULTS["max_log_lines"]) + NOTE_LINES
    max_bytes = job.get("max_log_bytes", JOB_DEFAULTS["max_log_bytes"]) + NOTE_LINES * NOTE_BYTES
    kept: list[LogLine] = []
    size = 0
    dropped = 0
    markers: list[LogLine] = []
    for line in logs:
        message = fix.text(line["message"])
        n = len(message.encode("utf-8", "surrogatepass"))
        if dropped or len(kept) >= max_lines or size + n > max_bytes:
            dropped += 1
            continue
        size += n
        level = line.get("level")
        kept.append({"level": level if level in LOG_LEVELS else "log", "at": line["at"][:40], "message": message})
    if dropped:
        markers.append({"level": "warn", "at": _now(),
                        "message": f"[dymunim] logs truncated by the recorder: {dropped} more lines dropped "
                                   f"(limit {job.get('max_log_lines')} lines / {job.get('max_log_bytes')} bytes)"})
    truncated = bool(raw.get("logs_truncated")) or dropped > 0

    err: JobError | None = None
    if not ok:
        assert isinstance(error, dict)
        stack = error.get("stack")
        err = {
            "name": fix.text(error["name"])[:200] or "Error",
            "message": fix.text(error["message"])[:MAX_ERROR_TEXT],
            "stack": fix.text(stack)[:MAX_ERROR_TEXT] if isinstance(stack, str) else None,
        }
    elif problem := unstorable(result):
        ok, result = False, None
        err = {"name": "ResultError", "stack": None, "message": f"result {problem}; remove it"}
    elif (size := len(dumps(result))) > job.get("max_result_bytes", JOB_DEFAULTS["max_result_bytes"]):
        ok, result = False, None
        err = {"name": "ResultError", "stack": None,
               "message": f"result is {size} bytes as JSON, over the limit of "
                          f"{job.get('max_result_bytes')} bytes (max_result_bytes)"}
    effects: list[dict[str, Any]] = []
    if ok:
        try:
            effects = _effects(raw.get("effects"), job, fix)
        except ValueError as exc:
            ok, result = False, None
            err = {"name": "ChainError", "stack": None, "message": str(exc)}
    workflow: dict[str, Any] | None = None
    if raw.get("workflow") is not None:
        try:
            workflow = reports.checked(raw["workflow"], ok,
                                       job.get("max_result_bytes", JOB_DEFAULTS["max_result_bytes"]))
        except reports.ReportError as exc:
            return _failed("ExecutorProtocolError", f"the executor's workflow report is malformed: {exc}",
                           duration, cold, kept)
    if fix.replaced:
        markers.append({"level": "warn", "at": _now(),
                        "message": f"[dymunim] replaced {fix.replaced} characters Postgres cannot store (NUL, "
                                   "unpaired UTF-16 surrogates) with U+FFFD"})
    out: dict[str, Any] = {"ok": ok, "result": result if ok else None, "error": err, "logs": kept + markers,
                           "logs_truncated": truncated, "duration_ms": duration, "cold": cold}
    if effects:
        out["effects"] = effects
    if workflow is not None:
        out["workflow"] = workflow
    return out  # type: ignore[return-value]
