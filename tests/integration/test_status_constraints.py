"""JobStatus is spelled once in Python and once per column in Postgres: the two lists must agree."""

from __future__ import annotations

import re

import psycopg

from dymunim.db.migrate import migrate
from dymunim.domain import JobStatus

STATUS_COLUMNS = {
    "jobs_state_status_check": "jobs_state.status",
    "job_events_to_status_check": "job_events.to_status",
    "job_events_from_status_check": "job_events.from_status",
}


def test_every_status_column_allows_exactly_the_enum(pg_dsn: str) -> None:
    migrate(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = ANY(%s)",
            (list(STATUS_COLUMNS),),
        ).fetchall()
    found = {name: set(re.findall(r"'(\w+)'::text", definition)) for name, definition in rows}
    assert set(found) == set(STATUS_COLUMNS), f"missing CHECK constraints: {set(STATUS_COLUMNS) - set(found)}"
    for name, values in found.items():
        assert values == {s.value for s in JobStatus}, (
            f"{STATUS_COLUMNS[name]} allows {sorted(values)}, JobStatus is {sorted(JobStatus)}: add a migration "
            "that changes the constraint with the enum")


def test_a_status_outside_the_enum_is_refused(pg_dsn: str) -> None:
    migrate(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("INSERT INTO job_code (code_hash, code, language) VALUES ('h-status', 'return 1', 'javascript') "
                     "ON CONFLICT DO NOTHING")
        job_id = conn.execute(
            "INSERT INTO jobs_state (code_hash, status, timeout_ms) VALUES ('h-status', 'queued', 1000) "
            "RETURNING job_id").fetchone()
        assert job_id is not None
        try:
            conn.execute("INSERT INTO job_events (job_id, from_status, to_status) VALUES (%s, 'queued', 'paused')",
                         (job_id[0],))
        except psycopg.errors.CheckViolation as exc:
            assert "job_events_to_status_check" in str(exc)
        else:
            raise AssertionError("job_events accepted the status 'paused'")
        conn.rollback()
