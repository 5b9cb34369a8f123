"""execute/blame.py without processes: who is suspected after a kill, how a /batch line is split, what
a culprit's outcome says, and (with a scripted pool) that bystanders of a killed call run again
elsewhere while the rarer code goes straight to quarantine."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from dymunim.execute.blame import _minority, _split_line, culprit_outcome, isolate_key, run_batch, run_one
from dymunim.execute.pool import ProcessKilled
from dymunim.record.checks import checked


def job(code: str, cache_id: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"code": code, "cache_id": cache_id, **kw}


# --- _minority: of the jobs a killed process had not answered, the ones whose code is rarer -------------

def test_one_code_among_the_unanswered_suspects_nobody() -> None:
    sub = [job("a", "c"), job("a", "c"), job("a", "c")]
    assert _minority(sub, [0, 1, 2]) == set()
    assert _minority(sub, [1]) == set()
    assert _minority(sub, []) == set()


def test_the_rarer_code_is_suspected_not_the_bulk() -> None:
    sub = [job("bulk", "c"), job("loop"), job("bulk", "c"), job("bulk", "c"), job("other")]
    assert _minority(sub, [0, 1, 2, 3, 4]) == {1, 4}


def test_only_unanswered_jobs_are_counted() -> None:
    # Two of the bulk already answered: among the rest, 'bulk' (1) and 'x' (2) -> 'x' is the bulk now.
    sub = [job("bulk"), job("bulk"), job("bulk"), job("x"), job("x")]
    assert _minority(sub, [2, 3, 4]) == {2}


def test_same_code_under_another_cache_id_is_another_isolate() -> None:
    sub = [job("a", "one"), job("a", "one"), job("a", "two")]
    assert _minority(sub, [0, 1, 2]) == {2}


# --- _split_line: one NDJSON line of the Worker's /batch answer --------------------------------------------

def test_a_batch_line_splits_into_its_index_and_the_outcome_json() -> None:
    got = _split_line(b'{"index":12,"ok":true,"result":{"a":[1,2]},"cold":false}')
    assert got is not None
    index, outcome = got
    assert index == 12
    assert json.loads(outcome) == {"ok": True, "result": {"a": [1, 2]}, "cold": False}


@pytest.mark.parametrize("line", [
    b'{"ok":true,"index":1}',            # index not first
    b'{"index":1}',                      # nothing but the index
    b'{"index":"1","ok":true}',          # a string index
    b'{"index":x,"ok":true}',
    b'',
    b'not json',
])
def test_lines_that_are_not_outcomes_are_refused(line: bytes) -> None:
    assert _split_line(line) is None


# --- culprit_outcome: what the job that took its process down is told ---------------------------------------

@pytest.mark.parametrize(("reason", "name", "words"), [
    ("memory", "OutOfMemoryError", "more than 128 MiB"),
    ("deadline", "TimeoutError", "exceeded 2500 ms"),
    ("crashed", "ExecutorCrash", "crashed while running this job alone"),
])
def test_a_culprit_fails_with_what_stopped_it(reason: Any, name: str, words: str) -> None:
    out = culprit_outcome(reason, job("x", timeout_ms=2500), 128, 1234.5678)
    assert out["ok"] is False and out["result"] is None
    assert out["error"]["name"] == name and words in out["error"]["message"]
    assert out["duration_ms"] == 1234.6, "how long it ran until stopped, not its timeout"
    # The recorder accepts it as a well-formed failure, not as a protocol error of the executor.
    assert checked(json.loads(json.dumps(out)), {"code": "x"}, lenient_text=False) == out


def test_a_job_without_a_timeout_is_told_the_default_one() -> None:
    assert culprit_outcome("deadline", job("x"), 128, 0)["error"]["message"] == "exceeded 30000 ms"


def test_isolate_key_changes_with_the_code_and_the_cache_id() -> None:
    key = isolate_key(job("return 1", "c"))
    assert key == "c:" + hashlib.sha256(b"return 1").hexdigest()
    assert isolate_key(job("return 2", "c")) != key
    assert isolate_key(job("return 1", "d")) != key


# --- run_one / run_batch over a scripted pool -------------------------------------------------------------

@dataclass
class FakeSlot:
    index: int


@dataclass
class FakePool:
    """Two processes (0, 1) and a quarantine (-1). `kill(slot, code)` says which calls die where."""

    kills: set[tuple[int, str]] = field(default_factory=set)
    batch_answers_first: int = 0  # lines a /batch call sends before its process is killed
    calls: list[tuple[int, str, list[str]]] = field(default_factory=list)
    isolates: list[tuple[int, str]] = field(default_factory=list)
    max_rss: int = 256 * 2**20
    quarantine_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    slots: list[FakeSlot] = field(default_factory=lambda: [FakeSlot(0), FakeSlot(1)])

    def pick(self, cache_id: str | None, avoid: set[int] | None = None, load: dict[int, int] | None = None) -> Any:
        ready = [s for s in self.slots if not (avoid and s.index in avoid)] or self.slots
        if load:
            return min(ready, key=lambda s: load.get(s.index, 0))
        return ready[0]

    async def ensure_quarantine(self) -> Any:
        return FakeSlot(-1)

    def note_isolate(self, slot: Any, key: str) -> None:
        self.isolates.append((slot.index, key))

    async def post(self, slot: Any, path: str, body: bytes, timeout_ms: int, lines: Any = None) -> bytes:
        jobs = json.loads(body)["jobs"] if path == "/batch" else [json.loads(body)]
        codes = [j["code"] for j in jobs]
        self.calls.append((slot.index, path, codes))
        if path == "/batch":
            dies = any((slot.index, c) in self.kills for c in codes)
            for i, j in enumerate(jobs):
                if dies and i >= self.batch_answers_first:
                    raise ProcessKilled("deadline", "frozen")
                lines(b'{"index":%d,"ok":true,"result":"%s@%d"}' % (i, j["code"].encode(), slot.index))
            return b""
        if (slot.index, codes[0]) in self.kills:
            raise ProcessKilled("deadline", "frozen")
        return json.dumps({"ok": True, "result": f"{codes[0]}@{slot.index}"}).encode()


def result(raw: bytes) -> Any:
    out = json.loads(raw)
    return out["result"] if out["ok"] else out["error"]["name"]


async def test_run_one_moves_a_killed_job_to_another_process() -> None:
    pool = FakePool(kills={(0, "a")})
    assert result(await run_one(pool, job("a", "c")) ) == "a@1"  # type: ignore[arg-type]
    assert [c[0] for c in pool.calls] == [0, 1]
    assert pool.isolates == [(1, isolate_key(job("a", "c")))], "warm where it finally ran"


async def test_run_one_notes_no_isolate_for_one_off_code() -> None:
    pool = FakePool()
    assert result(await run_one(pool, job("a"))) == "a@0"  # type: ignore[arg-type]
    assert pool.calls == [(0, "/load", ["a"])] and pool.isolates == []


async def test_run_one_quarantines_after_two_strikes_and_an_innocent_job_still_succeeds() -> None:
    pool = FakePool(kills={(0, "a"), (1, "a")})
    assert result(await run_one(pool, job("a"))) == "a@-1"  # type: ignore[arg-type]
    assert [c[0] for c in pool.calls] == [0, 1, -1]


async def test_run_one_fails_the_culprit_that_kills_the_quarantine_too() -> None:
    pool = FakePool(kills={(0, "a"), (1, "a"), (-1, "a")})
    out = json.loads(await run_one(pool, job("a", timeout_ms=50)))  # type: ignore[arg-type]
    assert out["ok"] is False and out["error"] == {"name": "TimeoutError", "message": "exceeded 50 ms",
                                                   "stack": None}


async def test_a_killed_batch_keeps_its_answers_reruns_the_bulk_and_quarantines_the_rare_code() -> None:
    jobs = [job("bulk", "c"), job("bulk", "c"), job("bulk", "c"), job("loop", "c")]
    pool = FakePool(kills={(0, "loop"), (-1, "loop")}, batch_answers_first=1)
    got: dict[int, Any] = {}

    def emit(i: int, raw: bytes) -> None:
        assert i not in got, f"job {i} emitted twice"
        got[i] = result(raw)

    await run_batch(pool, jobs, emit)  # type: ignore[arg-type]
    assert got == {0: "bulk@0", 1: "bulk@1", 2: "bulk@1", 3: "TimeoutError"}
    # The culprit never ran on the process the bulk moved to.
    assert all(c[0] != 1 or "loop" not in c[2] for c in pool.calls), pool.calls


async def test_an_unkilled_batch_answers_every_job_once_from_its_lines() -> None:
    jobs = [job("a", "c1"), job("b"), job("c")]
    pool = FakePool()
    got: dict[int, Any] = {}
    await run_batch(pool, jobs, lambda i, raw: got.__setitem__(i, result(raw)))  # type: ignore[arg-type]
    # One-off code goes where the batch put the least: b to the idle process, then c back to 0.
    assert got == {0: "a@0", 1: "b@1", 2: "c@0"}
    assert sorted((c[0], c[1]) for c in pool.calls) == [(0, "/batch"), (1, "/batch")]


class RepeatingPool(FakePool):
    async def post(self, slot: Any, path: str, body: bytes, timeout_ms: int, lines: Any = None) -> bytes:
        self.calls.append((slot.index, path, []))
        for line in (b'{"index":0,"ok":true,"result":"first"}', b'{"index":0,"ok":true,"result":"again"}',
                     b'{"index":5,"ok":true,"result":"nobody"}', b'{"index":-1,"ok":true,"result":"nobody"}',
                     b'garbage', b'{"index":1,"ok":true,"result":"second"}'):
            lines(line)
        return b""


async def test_repeated_out_of_range_and_garbage_lines_are_ignored() -> None:
    got: list[tuple[int, Any]] = []
    await run_batch(RepeatingPool(), [job("a", "c"), job("b", "c")],  # type: ignore[arg-type]
                    lambda i, raw: got.append((i, result(raw))))
    assert got == [(0, "first"), (1, "second")]
