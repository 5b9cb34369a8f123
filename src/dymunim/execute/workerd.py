"""One local workerd process running the executor Worker (`cloudflare-worker/`) on a loopback port."""

from __future__ import annotations

import asyncio
import glob
import json
import logging
import os
import signal
import socket
import tempfile
from pathlib import Path

import psutil
from yarl import URL

log = logging.getLogger(__name__)

COMPAT_DATE = "2025-09-01"
COMPAT_FLAGS: list[str] = []  # the dynamic workers get nodejs_compat; the executor needs none

CONFIG = """using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:{port}", http = (), service = "main") ],
);
const mainWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed {bundle}) ],
  compatibilityDate = {date},
  compatibilityFlags = {flags},
  bindings = [
    (name = "LOADER", workerLoader = (id = "loader")),
    (name = "EXECUTOR_TOKEN", text = {token}),
  ],
);
"""


def default_worker_dir() -> Path:
    # src/dymunim/execute/workerd.py -> repository root / cloudflare-worker
    return Path(__file__).resolve().parents[3] / "cloudflare-worker"


def find_workerd(worker_dir: Path) -> Path:
    """The real workerd binary from npm (not the node wrapper, so signals reach workerd itself)."""
    pattern = str(worker_dir / "node_modules" / "@cloudflare" / "workerd-*" / "bin" / "workerd")
    found = sorted(glob.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f"workerd not found under {worker_dir}/node_modules; run `npm ci` in {worker_dir} (make up does)"
        )
    return Path(found[0])


def bundle_path(worker_dir: Path) -> Path:
    path = worker_dir / "dist" / "worker.js"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `npm run build` in {worker_dir} (make up does)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class WorkerdProcess:
    def __init__(self, worker_dir: Path, token: str, index: int) -> None:
        self.worker_dir = worker_dir
        self.token = token
        self.index = index
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._urls: dict[tuple[int, str], URL] = {}
        self._dir = tempfile.TemporaryDirectory(prefix=f"dymunim-workerd-{index}-")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, path: str) -> URL:
        """The parsed URL of `path` on this process (parsed once: this is on every call's path)."""
        key = (self.port, path)
        url = self._urls.get(key)
        if url is None:
            url = self._urls[key] = URL(self.url + path)
        return url

    def rss_bytes(self) -> int:
        if self.proc is None or self.proc.returncode is not None:
            return 0
        try:
            return int(psutil.Process(self.proc.pid).memory_info().rss)
        except psutil.Error:
            return 0

    async def start(self) -> None:
        self.port = free_port()
        config = Path(self._dir.name) / "config.capnp"
        config.write_text(
            CONFIG.format(
                port=self.port,
                bundle=json.dumps(str(bundle_path(self.worker_dir))),
                date=json.dumps(COMPAT_DATE),
                flags=json.dumps(COMPAT_FLAGS),
                token=json.dumps(self.token),
            )
        )
        self.proc = await asyncio.create_subprocess_exec(
            str(find_workerd(self.worker_dir)),
            "serve",
            "--experimental",
            "--import-path",
            "/",
            str(config),
            stdin=asyncio.subprocess.DEVNULL,
            # --import-path /: capnp resolves the absolute `embed` path through its import path.
            # Own process group: a Ctrl-C at the terminal goes to `up`, which stops us in order.
            start_new_session=True,
            env={**os.environ},
        )
        log.info("workerd %d started pid=%d port=%d", self.index, self.proc.pid, self.port)

    def kill(self) -> None:
        """SIGKILL: the only thing that ends a runaway isolate locally."""
        if self.proc and self.proc.returncode is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def wait_dead(self) -> None:
        if self.proc:
            await self.proc.wait()

    def close(self) -> None:
        self.kill()
        self._dir.cleanup()
