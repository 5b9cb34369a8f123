"""Migrations: applied once each, safe from two processes at once, pgmq from the wheel's SQL, and an
applied migration that changes stops everything with a message saying what to do."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from dymunim.db.migrate import MigrationChanged, migrate, migration_files


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_two_processes_migrate_at_once(pg_dsn: str) -> None:
    code = "import sys; from dymunim.db.migrate import migrate; print(','.join(migrate(sys.argv[1])))"
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_dsn], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    applied = [o for o in outs if o]
    # Exactly one process applied everything; the other found nothing left to do.
    assert len(applied) == 1, outs
    assert applied[0].split(",") == ["0000_pgmq"] + [n for n, _ in migration_files()]
    with psycopg.connect(pg_dsn) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM dymunim_migrations ORDER BY name")]
        assert names == sorted(set(names)) and len(names) == 1 + len(migration_files())
        queues = {r[0] for r in conn.execute("SELECT queue_name FROM pgmq.list_queues()")}
        assert {"jobs", "jobs_dlq"} <= queues
        stored = dict(conn.execute("SELECT name, checksum FROM dymunim_migrations WHERE name <> '0000_pgmq'"))
    assert stored == {name: sha256(text) for name, text in migration_files()}
    assert migrate(pg_dsn) == []


def test_changed_migration_refuses_to_start(fresh_dsn: str, tmp_path: Path) -> None:
    first = tmp_path / "0001_things.sql"
    first.write_text("CREATE TABLE things (id int PRIMARY KEY);\n")
    assert migrate(fresh_dsn, tmp_path) == ["0000_pgmq", "0001_things.sql"]
    applied_text = first.read_text()

    first.write_text("CREATE TABLE things (id int PRIMARY KEY, name text);\n")
    (tmp_path / "0002_more.sql").write_text("CREATE TABLE more_things (id int);\n")
    with pytest.raises(MigrationChanged) as err:
        migrate(fresh_dsn, tmp_path)
    message = str(err.value)
    assert "0001_things.sql" in message
    assert sha256(applied_text) in message and sha256(first.read_text()) in message
    assert "restore" in message and "new migration" in message
    with psycopg.connect(fresh_dsn) as conn:
        # Refused before anything ran: the new file is not applied, the stored checksum is untouched.
        assert conn.execute("SELECT to_regclass('more_things')").fetchone() == (None,)
        assert conn.execute("SELECT checksum FROM dymunim_migrations WHERE name = '0001_things.sql'"
                            ).fetchone() == (sha256(applied_text),)

    first.write_text(applied_text)  # the fix the message gives
    assert migrate(fresh_dsn, tmp_path) == ["0002_more.sql"]


def test_checksums_are_added_to_a_database_migrated_before_they_existed(fresh_dsn: str, tmp_path: Path) -> None:
    first = tmp_path / "0001_things.sql"
    first.write_text("CREATE TABLE things (id int PRIMARY KEY);\n")
    with psycopg.connect(fresh_dsn, autocommit=True) as conn:
        # What the runner without checksums left behind: its table (no checksum column) and its rows.
        conn.execute("CREATE TABLE dymunim_migrations (name text PRIMARY KEY,"
                     " applied_at timestamptz NOT NULL DEFAULT now())")
        conn.execute(first.read_text())
        conn.execute("INSERT INTO dymunim_migrations (name) VALUES ('0000_pgmq'), ('0001_things.sql')")

    assert migrate(fresh_dsn, tmp_path) == [], "nothing is applied again"
    with psycopg.connect(fresh_dsn) as conn:
        rows = dict(conn.execute("SELECT name, checksum FROM dymunim_migrations"))
    assert rows == {"0000_pgmq": None, "0001_things.sql": sha256(first.read_text())}

    first.write_text("CREATE TABLE things (id bigint PRIMARY KEY);\n")
    with pytest.raises(MigrationChanged, match=r"0001_things\.sql"):
        migrate(fresh_dsn, tmp_path)
