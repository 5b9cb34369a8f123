"""Job code is untrusted, including the shape of its answer: no probe wedges the engine or its neighbours.

Each probe runs in a batch with three trivial neighbours on a real stack (real workerd, real
Postgres): every job must be terminal within 30 s and every neighbour `succeeded` at attempt 1
with its own result.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Stack, start_stack, stop_stack_proc

TERMINAL = {"succeeded", "failed", "dead", "cancelled"}
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def hard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("hard"), DYMUNIM_MAX_LOG_LINES="100")
    yield s
    stop_stack_proc(s.proc)


def submit_batch(s: Stack, jobs: list[dict[str, Any]]) -> list[int]:
    with s.client() as c:
        r = c.post("/api/jobs/batch", json={"jobs": jobs})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["errors"] == [], body
        return [int(i) for i in body["ids"]]


def wait_terminal(s: Stack, ids: list[int], timeout: float = 30) -> dict[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    jobs: dict[int, dict[str, Any]] = {}
    with s.client() as c:
        while time.monotonic() < deadline:
            for jid in ids:
                if jid not in jobs or jobs[jid]["status"] not in TERMINAL:
                    jobs[jid] = c.get(f"/api/jobs/{jid}").json()
            if all(j["status"] in TERMINAL for j in jobs.values()):
                return jobs
            time.sleep(0.1)
    stuck = {jid: j["status"] for jid, j in jobs.items() if j["status"] not in TERMINAL}
    raise AssertionError(f"not terminal after {timeout} s: {stuck}")


def with_neighbours(probe: dict[str, Any], tag: int) -> list[dict[str, Any]]:
    return [
        {"code": "return payload.n", "payload": {"n": tag * 10 + 1}},
        probe,
        {"code": "return payload.n", "payload": {"n": tag * 10 + 2}, "cache_id": "nbr"},
        {"code": "console.log('hi', payload.n); return payload.n", "payload": {"n": tag * 10 + 3}},
    ]


PROBES: dict[str, str] = {
    "lone surrogate result": 'return "\\ud83d\\ude00 hi".slice(0, 1)',
    "lone surrogate log": 'console.log("x\\udfff"); return 1',
    "lone surrogate error": 'throw new Error("bad \\ud800")',
    "stringify forged": "JSON.stringify = function () { return '1,}' }; return 5",
    "second outcome appended":
        "JSON.stringify = function () { return '{\"ok\":true,\"result\":1}\\n{\"index\":0,\"ok\":true}' }; return 6",
    "import the sandbox module": "const m = await import('./__dymunim_main.js'); return typeof m.default",
    "encoder defeats size check":
        "TextEncoder.prototype.encode = function () { return new Uint8Array(1) }; return 'x'.repeat(10 * 1024 * 1024)",
    "50,000 log lines": "for (let i = 0; i < 50000; i++) console.log('line', i); return 'logged'",
    "unhandled rejection":
        "Promise.reject(new RangeError('lost')); await new Promise(r => setTimeout(r, 20)); return 7",
}


def test_no_probe_wedges_a_batch_or_hurts_its_neighbours(hard_stack: Stack) -> None:
    s = hard_stack
    names = list(PROBES)
    jobs: list[dict[str, Any]] = []
    for k, name in enumerate(names):
        jobs += with_neighbours({"code": PROBES[name], "timeout_ms": 10_000}, k)
    ids = submit_batch(s, jobs)
    done = wait_terminal(s, ids)
    probe: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names):
        group = [done[ids[4 * k + j]] for j in range(4)]
        for j, want in ((0, k * 10 + 1), (2, k * 10 + 2), (3, k * 10 + 3)):
            n = group[j]
            assert (n["status"], n["attempts"], n["result"]) == ("succeeded", 1, want), (name, n)
        probe[name] = group[1]

    p = probe["lone surrogate result"]
    assert (p["status"], p["result"]) == ("succeeded", "\ufffd")
    assert "unpaired UTF-16 surrogate" in p["execution_logs"][-1]["message"]
    p = probe["lone surrogate log"]
    assert p["status"] == "succeeded" and p["execution_logs"][0]["message"] == "x\ufffd"
    p = probe["lone surrogate error"]
    assert p["status"] == "failed" and p["error"]["message"] == "bad \ufffd"
    assert (probe["stringify forged"]["status"], probe["stringify forged"]["result"]) == ("succeeded", 5)
    assert (probe["second outcome appended"]["status"], probe["second outcome appended"]["result"]) == ("succeeded", 6)
    assert probe["import the sandbox module"]["result"] == "function"
    p = probe["encoder defeats size check"]
    assert p["status"] == "failed" and p["error"]["name"] == "ResultError" and p["result"] is None
    assert "over the limit of 1048576 bytes" in p["error"]["message"]
    p = probe["50,000 log lines"]
    assert p["status"] == "succeeded" and p["logs_truncated"] is True
    assert len(p["execution_logs"]) <= 102, len(p["execution_logs"])
    p = probe["unhandled rejection"]
    assert p["status"] == "succeeded"
    assert p["execution_logs"][0]["level"] == "error"
    assert p["execution_logs"][0]["message"].startswith("Unhandled promise rejection: RangeError: lost")
    with s.client() as c:
        assert c.get("/health").json()["ok"] is True


def test_neighbours_of_poison_are_recorded_in_milliseconds(hard_stack: Stack) -> None:
    """One claimed batch with an infinite loop (3 s timeout) and a memory bomb: the 20 trivial
    neighbours are recorded long before the poison is killed."""
    s = hard_stack
    jobs = [{"code": "return payload.i", "payload": {"i": i}, "cache_id": "fast"} for i in range(20)]
    jobs.insert(3, {"code": "while (true) {}", "timeout_ms": 3000})
    jobs.insert(9, {"code": "const a = []; while (true) { a.push(new Array(1e6).fill(Math.random())); }",
                    "timeout_ms": 20000})
    ids = submit_batch(s, jobs)
    done = wait_terminal(s, ids, timeout=90)
    with s.db() as db:
        rows = db.execute(
            "SELECT job_id, extract(epoch FROM finished_at - created_at) AS took FROM jobs_state "
            "WHERE job_id = ANY(%s)", ([ids[i] for i in range(len(ids)) if i not in (3, 9)],)
        ).fetchall()
    took = sorted(float(r["took"]) for r in rows)
    assert len(took) == 20 and took[-1] < 2.5, took
    assert [done[ids[i]]["result"] for i in range(len(ids)) if i not in (3, 9)] == list(range(20))
    assert done[ids[3]]["error"]["name"] == "TimeoutError"
    bomb = done[ids[9]]
    assert bomb["error"]["name"] == "OutOfMemoryError"
    assert bomb["duration_ms"] < 20000, "the duration is the time until the kill, not the timeout"


_text = st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
_text |= st.sampled_from(["\ud800", "\udfff", "a\udc00b", "\x00", "nul\x00mid", "\ud83d\ude00", ""])


def _js(s: str) -> str:
    """A JavaScript string literal for `s`, lone surrogates included (escaped per UTF-16 unit)."""
    units = s.encode("utf-16-le", "surrogatepass")
    out = []
    for i in range(0, len(units), 2):
        u = int.from_bytes(units[i : i + 2], "little")
        out.append(chr(u) if 0x20 <= u < 0x7F and chr(u) not in "\"\\" else f"\\u{u:04x}")
    return '"' + "".join(out) + '"'


@st.composite
def job_code(draw: st.DrawFn) -> str:
    logs = [f"console.{draw(st.sampled_from(['log', 'warn', 'error']))}({_js(draw(_text))});"
            for _ in range(draw(st.integers(0, 3)))]
    end = draw(st.sampled_from(["return", "throw", "throw new Error", "return [", "return {k:"]))
    value = _js(draw(_text))
    tail = {"return": f"return {value};", "throw": f"throw {value};", "throw new Error": f"throw new Error({value});",
            "return [": f"return [{value}, {value}];", "return {k:": f"return {{[{value}]: {value}}};"}[end]
    return " ".join([*logs, tail])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=st.lists(job_code(), min_size=4, max_size=12))
def test_fuzzed_strings_logs_and_throws_never_leave_a_job_running(hard_stack: Stack, codes: list[str]) -> None:
    ids = submit_batch(hard_stack, [{"code": c, "timeout_ms": 5000} for c in codes])
    done = wait_terminal(hard_stack, ids, timeout=40)
    for jid, code in zip(ids, codes, strict=True):
        j = done[jid]
        assert j["status"] in ("succeeded", "failed"), (code, j)
        assert j["attempts"] == 1, (code, j)
        if j["status"] == "failed":
            assert j["error"]["name"] in ("Error", "ResultError"), (code, j["error"])


def test_health_names_a_dispatcher_holding_an_attempt_past_its_deadline(hard_stack: Stack) -> None:
    s = hard_stack
    with s.db() as db:
        db.execute("INSERT INTO dispatchers (dispatcher_id, hostname, pid, in_flight, overdue) "
                   "VALUES ('stuck-one', 'h', 1, 3, 2)")
    try:
        with s.client() as c:
            open_ = c.get("/health")
            assert open_.status_code == 503
            assert open_.json()["checks"]["dispatchers"] == {
                "ok": False, "error": "1 dispatcher(s) hold 2 attempt(s) past their deadline"}
            detail = c.get("/api/health").json()["checks"]["dispatchers"]
            assert {"id": "stuck-one", "overdue": 2} .items() <= next(
                d for d in detail["alive"] if d["id"] == "stuck-one").items()
    finally:
        with s.db() as db:
            db.execute("DELETE FROM dispatchers WHERE dispatcher_id = 'stuck-one'")
    with s.client() as c:
        assert c.get("/health").json()["checks"]["dispatchers"] == {"ok": True}


def test_a_payload_integer_beyond_64_bits_runs_and_spares_its_neighbours(hard_stack: Stack) -> None:
    s = hard_stack
    jobs = with_neighbours({"code": "return typeof payload.big", "payload": {"big": 2**70}}, 9)
    ids = submit_batch(s, jobs)
    done = wait_terminal(s, ids)
    assert [(done[i]["status"], done[i]["attempts"]) for i in ids] == [("succeeded", 1)] * 4
    assert done[ids[1]]["result"] == "number"
