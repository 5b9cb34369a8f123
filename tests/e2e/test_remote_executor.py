"""CLOUDFLARE_WORKER_URL: no local executor starts, and jobs run on the executor at that URL.

The remote here is `dymunim executor` on another port, which serves the same HTTP contract (and the
same Worker source) as the Worker deployed with `wrangler deploy`.
"""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import start_stack, stop_stack_proc
from tests.execute.conftest import EX_TOKEN, start_executor


def test_jobs_run_on_the_executor_at_cloudflare_worker_url(tmp_path: Path) -> None:
    remote = start_executor(tmp_path)
    try:
        (tmp_path / "stack").mkdir()
        s = start_stack(tmp_path / "stack", CLOUDFLARE_WORKER_URL=remote.url, EXECUTOR_TOKEN=EX_TOKEN)
        try:
            assert "executor" not in s.children(), "no local executor when CLOUDFLARE_WORKER_URL is set"
            job = s.submit({"code": "return payload.x * 3", "payload": {"x": 14}, "cache_id": "remote"})
            assert job["status"] == "succeeded" and job["result"] == 42
            warm = remote.health()["processes"]
            assert sum(p["warm_isolates"] for p in warm) >= 1, "the job ran on the remote executor"
        finally:
            stop_stack_proc(s.proc)
    finally:
        remote.proc.send_signal(signal.SIGTERM)
        remote.proc.wait(20)


def test_wrong_executor_token_retries_then_dead_letters(tmp_path: Path) -> None:
    remote = start_executor(tmp_path)
    try:
        (tmp_path / "stack").mkdir()
        s = start_stack(tmp_path / "stack", CLOUDFLARE_WORKER_URL=remote.url, EXECUTOR_TOKEN="wrong",
                        DYMUNIM_INFRA_MAX_ATTEMPTS="2")
        try:
            job = s.submit({"code": "return 1", "max_attempts": 2}, wait=30)
            assert job["status"] == "dead", job
            assert job["error"]["name"] == "ExecutorUnavailable" and "401" in job["error"]["message"]
            assert [e["to_status"] for e in job["events"]] == ["queued", "running", "retrying", "running", "dead"]
        finally:
            stop_stack_proc(s.proc)
    finally:
        remote.proc.send_signal(signal.SIGTERM)
        remote.proc.wait(20)
