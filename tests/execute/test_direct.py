"""A dispatcher's warm jobs go straight to workerd while the supervisor watches (execute/direct.py).

A real supervisor and its workerd pool; the DirectExecutor runs in the test's own event loop, as it
does in a dispatcher.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from dymunim.execute.client import ExecutorClient
from dymunim.execute.contract import ExecJob
from dymunim.execute.direct import DirectExecutor
from tests.execute.conftest import EX_TOKEN, Executor, start_executor


def calls(ex: Executor) -> int:
    return int(ex.health()["calls"])


def run(ex_url: str, token: str, jobs: list[dict[str, Any]]) -> tuple[list[dict[str, Any] | None], list[int]]:
    """DirectExecutor.run_batch: each job's outcome in order (None if missing) and the missing indices."""

    async def main() -> tuple[list[dict[str, Any] | None], list[int]]:
        out: list[dict[str, Any] | None] = [None] * len(jobs)

        def on_outcome(i: int, obj: Any, lenient: bool) -> None:
            assert out[i] is None, f"job {i} answered twice"
            out[i] = obj

        direct = DirectExecutor(ExecutorClient(ex_url, token))
        try:
            end = await direct.run_batch([ExecJob(**j) for j in jobs], on_outcome)  # type: ignore[typeddict-item]
        finally:
            await direct.aclose()
        return out, end.missing

    return asyncio.run(main())


@pytest.fixture(scope="module")
def ex(tmp_path_factory: pytest.TempPathFactory) -> Any:
    e = start_executor(tmp_path_factory.mktemp("direct"))
    yield e
    e.proc.terminate()
    e.proc.wait(30)


def test_warm_jobs_go_straight_to_workerd_and_the_supervisor_serves_none(ex: Executor) -> None:
    before = calls(ex)
    jobs = [{"code": "return payload.i * 2", "payload": {"i": i}, "cache_id": f"w{i % 3}"} for i in range(60)]
    out, missing = run(ex.url, EX_TOKEN, jobs)
    assert missing == []
    assert [o["result"] for o in out if o] == [i * 2 for i in range(60)]
    assert calls(ex) == before, "no call went through the supervisor"


def test_a_call_with_one_off_code_goes_through_the_supervisor(ex: Executor) -> None:
    """The supervisor places one-off code away from the warm jobs of the same call (see test_hardening)."""
    before = calls(ex)
    out, missing = run(ex.url, EX_TOKEN, [{"code": "return 41 + 1"}, {"code": "return 1", "cache_id": "w0"}])
    assert missing == [] and [o["result"] for o in out if o] == [42, 1]
    assert calls(ex) == before + 1, "one call, through the supervisor"


def test_a_warm_runaway_loop_is_found_and_its_neighbours_answer(ex: Executor) -> None:
    """The loop freezes its home process on a direct call: the supervisor kills it when asked, the jobs
    left without an outcome go through the supervisor with a strike, and the loop ends in quarantine."""
    restarts = sum(p["restarts"] for p in ex.health()["processes"])
    jobs = [{"code": "return payload.i", "payload": {"i": i}, "cache_id": "fast"} for i in range(20)]
    jobs.insert(7, {"code": "while (true) {}", "cache_id": "spin", "timeout_ms": 1500})
    out, missing = run(ex.url, EX_TOKEN, jobs)
    assert missing == []
    loop = out.pop(7)
    assert loop is not None and not loop["ok"] and loop["error"]["name"] == "TimeoutError", loop
    assert [o["result"] for o in out if o] == list(range(20)), "every neighbour answered, once"
    assert sum(p["restarts"] for p in ex.health()["processes"]) > restarts, "the frozen process was replaced"


def test_an_executor_without_a_pool_gets_every_job_itself(ex: Executor, tmp_path: Path) -> None:
    """A remote executor (the Worker on Cloudflare) has no /pool: the supervisor's client is used as is."""
    with ex.client() as c:
        table = c.get("/pool").json()
    workerd = table["processes"][0]["url"]
    assert httpx.get(workerd + "/pool", headers={"Authorization": f"Bearer {table['token']}"}).status_code >= 400
    out, missing = run(workerd, table["token"], [{"code": "return 5", "cache_id": "w1"}])
    assert missing == [] and out[0] and out[0]["result"] == 5


def test_the_pool_table_needs_the_executor_token(ex: Executor) -> None:
    assert httpx.get(ex.url + "/pool").status_code == 401
    with ex.client() as c:
        table = c.get("/pool").json()
        assert [p["index"] for p in table["processes"]] == [0, 1] and table["token"]
        assert c.post("/pool/check", json={"index": 9}).status_code == 400
        assert c.post("/pool/check", json={"index": 0}).json() == {"killed": False}, "an answering process lives"


def test_jobs_handed_over_with_strikes_go_by_them(ex: Executor) -> None:
    """Two strikes already: the loop runs alone in quarantine at once and is the culprit."""
    with ex.client() as c:
        r = c.post("/batch", json={"jobs": [{"code": "while (true) {}", "timeout_ms": 1000}]},
                   headers={"X-Dymunim-Strikes": "2"})
        assert r.status_code == 200
        lines = [ln for ln in r.text.splitlines() if ln.strip()]
        assert len(lines) == 1 and '"TimeoutError"' in lines[0]
        bad = c.post("/batch", json={"jobs": [{"code": "return 1"}]}, headers={"X-Dymunim-Strikes": "two"})
        assert bad.status_code == 400 and "integers" in bad.text
