"""A real `dymunim executor` (supervisor + workerd pool) on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dymunim.execute.workerd import free_port

EX_TOKEN = "ex-token"


@dataclass
class Executor:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {EX_TOKEN}"}, timeout=60)

    def health(self) -> dict:  # type: ignore[type-arg]
        return httpx.get(self.url + "/health", timeout=5).json()  # type: ignore[no-any-return]


def start_executor(tmp: Path, **env: str) -> Executor:
    port = free_port()
    log = tmp / "executor.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dymunim", "executor", "--port", str(port)],
        env={**os.environ, "EXECUTOR_TOKEN": EX_TOKEN, "DYMUNIM_EXECUTOR_PROCESSES": "2", **env},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return Executor(url, proc, log)
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"executor did not start:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def executor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executor]:
    ex = start_executor(tmp_path_factory.mktemp("executor"), DYMUNIM_EXECUTOR_MAX_RSS_MB="384")
    yield ex
    ex.proc.send_signal(signal.SIGTERM)
    try:
        ex.proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(ex.proc.pid, signal.SIGKILL)
