"""Apply the ordered `.sql` migrations once each.

Two processes may start at once (`up` and a second dispatcher, or two test workers): a session
advisory lock serialises them, and the applied set is re-read under the lock, so each file runs
exactly once.
"""

from __future__ import annotations

import logging
from importlib.resources import files

import psycopg
from pgmq.install import get_embedded_install_sql

log = logging.getLogger(__name__)

_LOCK_KEY = 0x64796D756E696D  # "dymunim"


def migration_files() -> list[tuple[str, str]]:
    folder = files("dymunim.db").joinpath("migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


def _install_pgmq(conn: psycopg.Connection) -> str:
    """Prefer the server's extension; fall back to the SQL the `pgmq` wheel ships."""
    has_ext = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgmq'").fetchone()
    if has_ext:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgmq")
        return "extension"
    installed = conn.execute("SELECT to_regclass('pgmq.meta') IS NOT NULL").fetchone()
    if installed and installed[0]:
        return "sql (already installed)"
    conn.execute(get_embedded_install_sql().encode())
    return "sql"


def migrate(dsn: str) -> list[str]:
    """Bring the database to the newest schema; returns the names applied now."""
    applied_now: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS dymunim_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM dymunim_migrations")}
            if "0000_pgmq" not in done:
                with conn.transaction():
                    how = _install_pgmq(conn)
                    conn.execute("INSERT INTO dymunim_migrations (name) VALUES ('0000_pgmq')")
                log.info("pgmq installed (%s)", how)
                applied_now.append("0000_pgmq")
            for name, sql in migration_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute("INSERT INTO dymunim_migrations (name) VALUES (%s)", (name,))
                applied_now.append(name)
                log.info("migration %s applied", name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
