"""One local workerd process running the executor Worker (`cloudflare-worker/`) on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import json
import logging
import os
import signal
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import cast

import httptools
import psutil

from dymunim.lifecycle import die_with_parent

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
        self._http: _Connections | None = None
        self._dir = tempfile.TemporaryDirectory(prefix=f"dymunim-workerd-{index}-")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def post(self, path: str, body: bytes, lines: LineSink | None = None) -> tuple[int, bytes]:
        """POST JSON bytes over a kept-alive loopback connection; (status, body bytes).

        With `lines`, a 200 answer is NDJSON handed over line by line as it arrives (the returned
        body is then empty). A plain asyncio protocol, not an HTTP client library: this is on every
        call's path and the load shares the CPU. Raises ConnectionError when the connection fails
        or the process is gone.
        """
        if self._http is None or self._http.port != self.port:
            self._http = _Connections(self.port, self.token)
        return await self._http.post(path, body, lines)

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
            # A supervisor killed with SIGKILL must not leave workerd processes running user code.
            preexec_fn=die_with_parent(signal.SIGKILL),
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
        if self._http is not None:
            self._http.close()
        self._dir.cleanup()


LineSink = Callable[[bytes], None]


class _Response(asyncio.Protocol):
    """One HTTP/1.1 connection to workerd; answers are parsed by httptools (C)."""

    def __init__(self, owner: _Connections) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.chunks: list[bytes] = []
        self.got_data = False
        self.closed = False
        self.lines: LineSink | None = None  # set for a streamed (NDJSON) request
        self.streaming = False  # this answer's body goes to `lines`
        self.partial = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though not always an asyncio.Transport subclass (uvloop's is not).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.got_data = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"bad HTTP answer from workerd: {exc}"))
            self.abort()

    def on_headers_complete(self) -> None:
        self.streaming = self.lines is not None and self.parser.get_status_code() == 200

    def on_body(self, body: bytes) -> None:
        if not self.streaming:
            self.chunks.append(body)
            return
        assert self.lines is not None
        data = self.partial + body if self.partial else body
        *complete, self.partial = data.split(b"\n")
        for line in complete:
            if line:
                self.lines(line)

    def on_message_complete(self) -> None:
        if self.streaming and self.partial:
            assert self.lines is not None
            self.lines(self.partial)
        self.partial = b""
        self.streaming = False
        if self.waiter is not None and not self.waiter.done():
            body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
            self.waiter.set_result((self.parser.get_status_code(), body))
        self.chunks = []
        if not self.parser.should_keep_alive():
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.owner.forget(self)
        self._fail(ConnectionError(f"connection to workerd lost: {exc!r}" if exc else "workerd closed the connection"))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class _Connections:
    """Kept-alive connections to one workerd process (one request at a time on each)."""

    MAX_IDLE = 256

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.idle: list[_Response] = []
        self.all: set[_Response] = set()
        self._head = (
            f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()

    async def _connect(self) -> _Response:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(lambda: _Response(self), "127.0.0.1", self.port)
        self.all.add(conn)
        return conn

    async def post(self, path: str, body: bytes, lines: LineSink | None = None) -> tuple[int, bytes]:
        request = b"POST %s HTTP/1.1\r\n%s%d\r\n\r\n%s" % (path.encode(), self._head, len(body), body)
        while self.idle:
            conn = self.idle.pop()
            if conn.closed:
                continue
            try:
                return await self._exchange(conn, request, lines)
            except ConnectionError:
                # workerd may close an idle connection just as we reuse it: it never read the
                # request, so send it again on a fresh connection (which fails if the process is gone).
                if conn.got_data:
                    raise
        try:
            conn = await self._connect()
        except OSError as exc:
            raise ConnectionError(f"cannot connect to workerd on port {self.port}: {exc!r}") from exc
        return await self._exchange(conn, request, lines)

    async def _exchange(self, conn: _Response, request: bytes, lines: LineSink | None) -> tuple[int, bytes]:
        assert conn.transport is not None
        conn.waiter = asyncio.get_running_loop().create_future()
        conn.got_data = False
        conn.lines = lines
        try:
            conn.transport.write(request)
            answer = await conn.waiter
        except BaseException:
            conn.abort()  # cancelled or failed mid-request: the connection's state is unknown
            self.all.discard(conn)
            raise
        finally:
            conn.lines = None
        conn.waiter = None
        if conn.closed:
            self.all.discard(conn)
        elif len(self.idle) < self.MAX_IDLE:
            self.idle.append(conn)
        else:
            conn.abort()
            self.all.discard(conn)
        return answer

    def forget(self, conn: _Response) -> None:
        self.all.discard(conn)
        with contextlib.suppress(ValueError):
            self.idle.remove(conn)

    def close(self) -> None:
        for conn in list(self.all):
            conn.abort()
        self.all.clear()
        self.idle.clear()
