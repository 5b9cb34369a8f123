"""`dymunim run`: prints the result and logs; exit 0 on success, 1 on a failed job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TOKEN, Stack


def run_cli(stack: Stack, file: Path, payload: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dymunim", "run", str(file), "--payload", payload, "--url", stack.url],
        capture_output=True, text=True, timeout=60, env={**os.environ, "DYMUNIM_API_TOKEN": TOKEN},
    )


def test_run_prints_result_and_logs(stack: Stack, tmp_path: Path) -> None:
    job = tmp_path / "job.js"
    job.write_text("console.log('adding', payload.a);\nreturn { sum: payload.a + 1 };\n")
    out = run_cli(stack, job, '{"a": 41}')
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"sum": 42}
    assert "[log] adding 41" in out.stderr


def test_run_exits_1_on_failed_job(stack: Stack, tmp_path: Path) -> None:
    job = tmp_path / "bad.js"
    job.write_text("throw new TypeError('boom')")
    out = run_cli(stack, job, "null")
    assert out.returncode == 1
    assert "TypeError: boom" in out.stderr


def test_run_refuses_bad_payload(stack: Stack, tmp_path: Path) -> None:
    job = tmp_path / "j.js"
    job.write_text("return 1")
    out = run_cli(stack, job, "{nope")
    assert out.returncode == 2 and "--payload is not valid JSON" in out.stderr


def test_up_refuses_a_public_address_without_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DYMUNIM_API_TOKEN"}
    out = subprocess.run([sys.executable, "-m", "dymunim", "up", "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode != 0
    assert "DYMUNIM_API_TOKEN" in out.stderr
    assert not (tmp_path / "pg").exists(), "nothing started"


def test_up_says_when_its_port_is_taken(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "dymunim", "up", "--port", str(port), "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use" in out.stderr
    assert not (tmp_path / "pg").exists(), "nothing started"
