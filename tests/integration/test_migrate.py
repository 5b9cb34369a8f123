"""Migrations: applied once each, safe from two processes at once, pgmq from the wheel's SQL."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from dymunim.db.migrate import migrate, migration_files


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
    assert migrate(pg_dsn) == []
