"""`dymunim up`: the whole system on its embedded defaults, each part its own child process.

Postgres (embedded unless DATABASE_URL), the executor pool (unless CLOUDFLARE_WORKER_URL), a
dispatcher and the API. A child that dies is restarted, the embedded Postgres too; Ctrl-C or SIGTERM
stops them all in order.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dymunim import upstate
from dymunim.db.embedded import EmbeddedPostgres
from dymunim.db.migrate import MigrationChanged, migrate
from dymunim.execute.workerd import free_port
from dymunim.lifecycle import die_with_parent
from dymunim.settings import Settings

log = logging.getLogger("dymunim.up")


MAX_QUICK_DEATHS = 5


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    quick_deaths: int = 0
    started_at: float = 0.0
    ready_file: Path | None = None

    def start(self) -> None:
        if self.ready_file:
            self.ready_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dymunim", *self.args],
            env=self.env,
            start_new_session=True,  # Ctrl-C reaches `up` alone; it stops the children in order
            preexec_fn=die_with_parent(signal.SIGTERM),  # and if `up` is killed, they stop too
        )
        self.started_at = time.monotonic()
        log.info("%s started (pid %d)", self.name, self.proc.pid)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs; killing it", self.name, grace)
            self.proc.kill()
            self.proc.wait()


def wait_ready(child: Child, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert child.ready_file is not None
    while time.monotonic() < deadline:
        if child.ready_file.exists():
            return
        if not child.alive():
            raise SystemExit(f"{child.name} exited while starting (code {child.proc and child.proc.returncode})")
        time.sleep(0.05)
    raise SystemExit(f"{child.name} did not become ready in {timeout:.0f}s")


@dataclass
class PostgresWatch:
    """Supervises the embedded Postgres: it is no child of `up` (pg_ctl daemonizes it), so `up` polls
    the pid in postmaster.pid, and publishes what it saw to the state file /health reads."""

    pg: EmbeddedPostgres
    state_file: Path
    pid: int | None = None
    restarts: int = 0
    last_restart_at: str | None = None

    def publish(self, running: bool, error: str | None = None) -> None:
        pg = {"running": running, "pid": self.pid, "restarts": self.restarts,
              "last_restart_at": self.last_restart_at, "error": error}
        try:
            upstate.write(self.state_file, {"postgres": pg})
        except OSError as exc:  # /health loses a detail; supervision goes on
            log.warning("cannot write %s: %s", self.state_file, exc)

    def _running_again(self) -> bool:
        pid = self.pg.postmaster_pid()
        if pid is None:
            return False
        if pid != self.pid:
            log.warning("postgres runs as pid %d now (was %s): restarted outside `up`", pid, self.pid)
            self.pid = pid
            self.publish(True)
        return True

    def check(self, stop: threading.Event) -> None:
        """If the postmaster died, bring it back; retries (backing off) until it runs or `up` stops."""
        if self._running_again():
            return
        # An operator's `pg_ctl restart` leaves no postmaster for a moment: starting one of our own
        # then would make theirs fail. Give it a second to come back by itself.
        if stop.wait(1.0) or self._running_again():
            return
        down_since = time.monotonic()
        log.error("postgres (postmaster pid %s) died; restarting it on %s", self.pid, self.pg.pgdata)
        self.publish(False, "postgres died; `up` is restarting it")
        failures = 0
        while not stop.is_set():
            if self._running_again():
                return
            try:
                pid = self.pg.restart()
            except Exception as exc:  # the reason is in the message; keep trying while `up` runs
                failures += 1
                delay = min(10.0, 0.5 * 2 ** (failures - 1))
                log.error("postgres did not start (attempt %d): %s; retrying in %.1f s", failures, exc, delay)
                self.publish(False, f"postgres did not start ({failures} attempts): {str(exc).splitlines()[0]}")
                stop.wait(delay)
                continue
            self.pid = pid
            self.restarts += 1
            self.last_restart_at = datetime.now(UTC).isoformat()
            log.warning("postgres restarted (pid %d, restart %d) %.1f s after it died; crash recovery done",
                        pid, self.restarts, time.monotonic() - down_since)
            self.publish(True)
            return


def run_up(settings: Settings) -> int:
    if not is_loopback(settings.host) and not settings.api_token:
        raise SystemExit(
            f"refusing to listen on {settings.host} without DYMUNIM_API_TOKEN: anyone who reaches it "
            "could run code here. Set DYMUNIM_API_TOKEN, or bind 127.0.0.1."
        )
    if not port_free(settings.host, settings.port):
        raise SystemExit(
            f"port {settings.port} on {settings.host} is in use (another `dymunim up`?); stop it or pass --port"
        )
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    pg: EmbeddedPostgres | None = None
    watch: PostgresWatch | None = None
    state_file = data_dir / "up-state.json"
    state_file.unlink(missing_ok=True)
    dsn = settings.database_url
    if not dsn:
        pg = EmbeddedPostgres(data_dir)
        dsn = pg.start()
        watch = PostgresWatch(pg, state_file, pid=pg.postmaster_pid())
        watch.publish(True)
    children: list[Child] = []
    try:
        try:
            applied = migrate(dsn)
        except MigrationChanged as exc:
            raise SystemExit(str(exc)) from None
        if applied:
            log.info("migrations applied: %s", ", ".join(applied))
        env = {**os.environ, "DATABASE_URL": dsn, "DYMUNIM_DATA_DIR": str(data_dir)}
        if watch:
            env["DYMUNIM_UP_STATE_FILE"] = str(state_file)
        if settings.cloudflare_worker_url:
            env["DYMUNIM_EXECUTOR_URL"] = settings.cloudflare_worker_url
        else:
            port = settings.executor_port or free_port()
            token = settings.executor_token or secrets.token_urlsafe(24)
            env |= {"DYMUNIM_EXECUTOR_URL": f"http://127.0.0.1:{port}", "EXECUTOR_TOKEN": token}
            ex = Child(
                "executor",
                ["executor", "--port", str(port), "--ready-file", str(data_dir / "executor.ready")],
                env,
                ready_file=data_dir / "executor.ready",
            )
            children.append(ex)
            ex.start()
            wait_ready(ex)
        children.append(Child("dispatcher", ["dispatch"], env))
        api = Child(
            "api",
            ["api", "--host", settings.host, "--port", str(settings.port), "--ready-file", str(data_dir / "api.ready")],
            env,
            ready_file=data_dir / "api.ready",
        )
        children.append(api)
        for c in children[-2:]:
            c.start()
        wait_ready(api)
        print(f"dymunim is up: http://{settings.host}:{settings.port}  (Ctrl-C stops it)", flush=True)
        while not stop.wait(0.5):
            if watch:
                watch.check(stop)
            for c in children:
                if not c.alive() and not stop.is_set():
                    code = c.proc.returncode if c.proc else None
                    # A child that dies within seconds of starting, again and again, is broken, not
                    # unlucky: back off, and give up (with its exit code) rather than spin forever.
                    quick = time.monotonic() - c.started_at < 5
                    c.quick_deaths = c.quick_deaths + 1 if quick else 0
                    if c.quick_deaths >= MAX_QUICK_DEATHS:
                        log.error("%s keeps exiting at start (code %s, %d times); stopping", c.name, code,
                                  c.quick_deaths)
                        return 1
                    c.restarts += 1
                    log.error("%s exited (code %s); restarting it (restart %d)", c.name, code, c.restarts)
                    if quick:
                        time.sleep(min(10, 0.5 * c.quick_deaths))
                    c.start()
        return 0
    finally:
        log.info("stopping")
        for c in reversed(children):  # API first, then dispatcher (finishes in-flight work), then executor
            c.stop(grace=settings.shutdown_grace_s + 5)
        if pg:
            pg.stop()
