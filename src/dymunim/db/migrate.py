"""Apply the ordered `.sql` migrations once each, and refuse to run on one changed after it was applied.

Two processes may start at once (`up` and a second dispatcher, or two test workers): a session
advisory lock serialises them, and the applied set is re-read under the lock, so each file runs
exactly once.

Each applied file's sha256 is stored with it. A database migrated by an edited file and one migrated
by the original would silently differ, so a mismatch stops everything before any new file runs.
"""

from __future__ import annotations

import hashlib
import logging
from importlib.resources import files
from importlib.resources.abc import Traversable

import psycopg
from pgmq.install import get_embedded_install_sql

from dymunim.db.named import load

log = logging.getLogger(__name__)

MIGRATIONS_DIR = "src/dymunim/db/migrations"


class MigrationChanged(RuntimeError):
    """An applied migration's file no longer has the text it was applied with."""


def q(name: str) -> bytes:
    return _QUERIES[name]


_QUERIES = load("dymunim.db", "migrate.sql")


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def migration_files(folder: Traversable | None = None) -> list[tuple[str, str]]:
    folder = folder or files("dymunim.db").joinpath("migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


def _install_pgmq(conn: psycopg.Connection) -> str:
    """Prefer the server's extension; fall back to the SQL the `pgmq` wheel ships."""
    if conn.execute(q("pgmq_available")).fetchone():
        conn.execute(q("pgmq_create_extension"))
        return "extension"
    installed = conn.execute(q("pgmq_installed")).fetchone()
    if installed and installed[0]:
        return "sql (already installed)"
    conn.execute(get_embedded_install_sql().encode())
    return "sql"


def _changed_message(where: str, name: str, stored: str, current: str) -> str:
    return (
        f"migration {name} was changed after it was applied to this database: its stored sha256 is "
        f"{stored}, the file's is now {current}. Refusing to start, because this database and one "
        f"migrated from the file as it is now would differ. Fix: restore {where}/{name} as it "
        f"was applied (`git log -p -- {where}/{name}`), and put the change in a new migration "
        "file with the next number; never edit a migration that has been applied."
    )


def migrate(dsn: str, folder: Traversable | None = None) -> list[str]:
    """Bring the database to the newest schema; returns the names applied now.

    `folder` holds the `.sql` files (default: the package's migrations). Raises MigrationChanged,
    applying nothing, when an applied file's text changed.
    """
    applied_now: list[str] = []
    wanted = migration_files(folder)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(q("migrations_lock"))
        try:
            conn.execute(q("migrations_table"))
            done: dict[str, str | None] = dict(conn.execute(q("applied_migrations")).fetchall())
            changed = [(name, stored, checksum(sql)) for name, sql in wanted
                       if (stored := done.get(name)) is not None and stored != checksum(sql)]
            if changed:
                where = MIGRATIONS_DIR if folder is None else str(folder)
                raise MigrationChanged("\n".join(_changed_message(where, *c) for c in changed))
            for name, sql in wanted:
                if name in done and done[name] is None:
                    # Applied before checksums were kept: trust the file as it is now, once.
                    conn.execute(q("fill_migration_checksum"), {"name": name, "checksum": checksum(sql)})
                    log.info("migration %s: checksum recorded", name)
            if "0000_pgmq" not in done:
                with conn.transaction():
                    how = _install_pgmq(conn)
                    conn.execute(q("record_migration"), {"name": "0000_pgmq", "checksum": None})
                log.info("pgmq installed (%s)", how)
                applied_now.append("0000_pgmq")
            for name, sql in wanted:
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute(q("record_migration"), {"name": name, "checksum": checksum(sql)})
                applied_now.append(name)
                log.info("migration %s applied", name)
        finally:
            conn.execute(q("migrations_unlock"))
    return applied_now
