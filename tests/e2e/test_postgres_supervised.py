"""`up` supervises its embedded Postgres: a SIGKILLed postmaster comes back by itself, nothing lost."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_crash import wait_for

CODE = "await new Promise(r => setTimeout(r, 300 + payload.i * 20)); return payload.i * 2"


def postmaster(s: Stack) -> int:
    return int((s.data_dir.resolve() / "pg" / "postmaster.pid").read_text().split()[0])


def postgres_health(s: Stack) -> dict[str, Any]:
    """The postgres entry of the health report, with its detail (behind the token where there is one)."""
    with s.client() as c:
        r = c.get("/api/health")
        body = r.json() if r.status_code == 200 else c.get("/health").json()
    check: dict[str, Any] = body["checks"]["postgres"]
    return check


def test_sigkilled_postgres_comes_back_and_loses_nothing(tmp_path: Path) -> None:
    s = start_stack(tmp_path)
    try:
        assert postgres_health(s) == {"ok": True, "restarts": 0, "last_restart_at": None}
        with s.client() as c:
            r = c.post("/api/jobs/batch", json={"jobs": [
                {"code": CODE, "payload": {"i": i}, "max_attempts": 5} for i in range(40)]})
            assert r.status_code == 201 and not r.json()["errors"], r.text
            ids: list[int] = r.json()["ids"]
            wait_for(lambda: any(c.get(f"/api/jobs/{i}").json()["status"] == "running" for i in ids[:5]),
                     what="jobs running")

        old = postmaster(s)
        os.kill(old, signal.SIGKILL)
        killed_at = time.monotonic()
        saw_down = False
        with s.client() as c:
            while True:
                assert time.monotonic() - killed_at < 20, "the API did not answer jobs again within 20 s"
                try:
                    r = c.get(f"/api/jobs/{ids[0]}", timeout=5)
                except httpx.HTTPError:
                    r = None
                if r is not None and r.status_code == 200:
                    # Answered by a new postmaster, not by the old one before it noticed its death.
                    if saw_down or postmaster(s) != old:
                        break
                else:
                    assert r is None or r.status_code == 503, r.text
                    saw_down = True
                time.sleep(0.05)
        new = postmaster(s)
        assert new != old and psutil.pid_exists(new)

        # `up` publishes the restart when pg_ctl returns, a moment after Postgres accepts connections.
        pg = wait_for(lambda: (h := postgres_health(s))["restarts"] and h, timeout=10, what="restart in /health")
        assert pg["ok"] is True and pg["restarts"] == 1 and pg["last_restart_at"], pg
        log = s.log_path.read_text()
        assert f"postgres (postmaster pid {old}) died; restarting it" in log
        assert f"postgres restarted (pid {new}, restart 1)" in log

        deadline = time.monotonic() + 90
        with s.client() as c:
            while True:
                jobs = [c.get(f"/api/jobs/{i}").json() for i in ids]
                left = [(j["job_id"], j["status"], j["attempts"]) for j in jobs
                        if j["status"] not in ("succeeded", "failed", "dead")]
                if not left:
                    break
                assert time.monotonic() < deadline, f"jobs submitted before the kill never finished: {left}"
                time.sleep(0.2)
        for j in jobs:
            assert j["status"] == "succeeded", j
            assert j["result"] == j["payload"]["i"] * 2
            assert [e["to_status"] for e in j["events"]].count("succeeded") == 1
        assert s.submit({"code": "return 'after'"})["result"] == "after"
    finally:
        stop_stack_proc(s.proc)
    assert s.proc.returncode == 0
    # `up` stops the Postgres it restarted, as it stops the first one.
    assert not psutil.pid_exists(new) or psutil.Process(new).status() == psutil.STATUS_ZOMBIE
