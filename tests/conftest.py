"""Real processes for the tests: `dymunim up` on a free port with its embedded Postgres and workerd."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from dymunim.execute.workerd import free_port

TOKEN = "test-token-123"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread until
    the session ends, and every later test that calls asyncio.run() would then fail."""
    items.sort(key=lambda item: "tests/ui/" in item.nodeid.replace("\\", "/"))


@dataclass
class Stack:
    url: str
    dsn: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def db(self) -> psycopg.Connection[dict[str, Any]]:
        return psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row)

    def submit(self, body: dict[str, Any], wait: float = 30, **kw: Any) -> dict[str, Any]:
        with self.client() as c:
            r = c.post("/api/jobs", params={"wait": wait}, json=body, **kw)
            assert r.status_code in (200, 201), r.text
            out: dict[str, Any] = r.json()
            return out

    def children(self) -> dict[str, int]:
        """pid of each dymunim child process by role (from `ps`, as an operator would find them)."""
        out = subprocess.run(
            ["ps", "-o", "pid=,ppid=,args=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        found: dict[str, int] = {}
        for line in out.splitlines():
            pid, _ppid, args = line.split(None, 2)
            for role in ("executor", "dispatch", "api"):
                if f"-m dymunim {role}" in args:
                    found[role] = int(pid)
        return found


def start_stack(tmp: Path, **env: str) -> Stack:
    port = free_port()
    data_dir = tmp / "data"
    log_path = tmp / "up.log"
    full_env = {
        **os.environ,
        "DYMUNIM_API_TOKEN": TOKEN,
        "DYMUNIM_VISIBILITY_TIMEOUT_S": "4",
        "DYMUNIM_RETRY_BASE_S": "0.2",
        "DYMUNIM_RETRY_CAP_S": "1",
        **env,
    }
    full_env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dymunim", "up", "--port", str(port), "--data-dir", str(data_dir)],
        env=full_env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dymunim up exited ({proc.returncode}):\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        stop_stack_proc(proc)
        raise RuntimeError(f"dymunim up did not become healthy:\n{log_path.read_text()[-4000:]}")
    dsn = f"postgresql://postgres:@/postgres?host={data_dir.resolve() / 'pg'}"
    return Stack(url, dsn, data_dir, proc, log_path)


def stop_stack_proc(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("stack"))
    yield s
    stop_stack_proc(s.proc)
