"""A dispatcher's slots bound the jobs executing, not the outcomes waiting to be written: a slow
record (here: a row lock Postgres makes it wait on) does not hold back the next job, and at most
max_in_flight outcomes wait to be written before the dispatcher stops claiming."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_crash import wait_for

SLOW = "await new Promise(r => setTimeout(r, 1000)); return payload.n"


@pytest.fixture(scope="module")
def one_slot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("slots"), DYMUNIM_MAX_IN_FLIGHT="1",
                    DYMUNIM_VISIBILITY_TIMEOUT_S="30")
    yield s
    stop_stack_proc(s.proc)


def status(s: Stack, job_id: int) -> str:
    with s.db() as db:
        row = db.execute("SELECT status FROM jobs_state WHERE job_id = %s", (job_id,)).fetchone()
    assert row is not None
    return str(row["status"])


def lock_row(s: Stack, job_id: int) -> psycopg.Connection[object]:
    """Hold the job's row in an open transaction: recording its outcome waits until we commit."""
    conn: psycopg.Connection[object] = psycopg.connect(s.dsn)
    conn.execute("SELECT 1 FROM jobs_state WHERE job_id = %s FOR UPDATE", (job_id,))
    return conn


def test_an_outcome_waiting_to_be_written_does_not_hold_the_slot(one_slot: Stack) -> None:
    s = one_slot
    a = s.submit({"code": SLOW, "payload": {"n": 1}}, wait=0)["job_id"]
    wait_for(lambda: status(s, a) == "running", what="a running")
    lock_a = lock_row(s, a)
    try:
        b = s.submit({"code": SLOW, "payload": {"n": 2}}, wait=0)["job_id"]
        # One slot: b can only start once a's outcome has arrived, while a's record still waits on the lock.
        wait_for(lambda: status(s, b) == "running", timeout=20, what="b running while a's record waits")
        lock_b = lock_row(s, b)
        try:
            assert status(s, a) == "running"
            c = s.submit({"code": "return payload.n", "payload": {"n": 3}}, wait=0)["job_id"]
            # Two outcomes wait to be written (max_in_flight more than the slots): no new claim.
            time.sleep(3)
            assert (status(s, a), status(s, b), status(s, c)) == ("running", "running", "queued")
        finally:
            lock_b.commit()
            lock_b.close()
    finally:
        lock_a.commit()
        lock_a.close()
    for job_id, n in ((a, 1), (b, 2), (c, 3)):
        wait_for(lambda j=job_id: status(s, j) == "succeeded", timeout=20, what=f"job {job_id} succeeded")
        with s.client() as cl:
            assert cl.get(f"/api/jobs/{job_id}").json()["result"] == n
