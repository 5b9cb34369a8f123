"""The recorder's workflow path on a real Postgres: a step and its queue operation commit together or not
at all, a zombie call records nothing, a kept event is taken when the run reaches its wait, and a report
that names a completed step fails the run."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from dymunim.db.migrate import migrate
from dymunim.db.pool import DictPool, open_pool
from dymunim.execute.contract import Outcome
from dymunim.record.outcomes import Attempt, Finished, record
from dymunim.record.policy import RetryPolicy
from dymunim.settings import Settings
from dymunim.store import claims
from dymunim.store.models import Claimed
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec
from dymunim.workflow import inbox

POLICY = RetryPolicy(1, 1)
RETRIES = {"limit": 0, "delay_ms": 0, "backoff": "constant"}


def suspended(*steps: dict[str, Any], ok: bool = True, done: bool = False) -> Outcome:
    return {"ok": ok, "result": "end" if done else None, "error": None, "logs": [], "logs_truncated": False,
            "duration_ms": 1.0, "cold": False,
            "workflow": {"steps": list(steps), "suspended": not done}}  # type: ignore[typeddict-item]


def step(name: str, result: Any = 1) -> dict[str, Any]:
    return {"kind": "do", "name": name, "ok": True, "result": result, "duration_ms": 1.0, "retries": RETRIES,
            "timeout_ms": None}


async def claim(pool: DictPool, job_id: int) -> Claimed:
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("UPDATE pgmq.q_jobs SET vt = now() WHERE (message->>'job_id')::bigint = %s", (job_id,))
        took = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=None)
    (row,) = [r for r in took.ready if r.job_id == job_id]
    return row


def fin(row: Claimed, o: Outcome) -> Finished:
    return Finished(Attempt(row.job_id, row.attempts, row.msg_id, row.max_attempts, False), o)


def state(dsn: str, job_id: int) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        job = conn.execute("SELECT status, max_attempts, msg_id, steps FROM jobs_state WHERE job_id = %s",
                           (job_id,)).fetchone()
        steps = conn.execute("SELECT name, status FROM job_steps WHERE job_id = %s ORDER BY seq", (job_id,)).fetchall()
        msgs = conn.execute("SELECT msg_id FROM pgmq.q_jobs WHERE (message->>'job_id')::bigint = %s",
                            (job_id,)).fetchall()
    assert job is not None
    return {"status": job[0], "max_attempts": job[1], "msg_id": job[2], "steps": job[3],
            "step_rows": [tuple(s) for s in steps], "messages": [m[0] for m in msgs]}


def run(dsn: str, body: Any) -> None:
    migrate(dsn)

    async def main() -> None:
        pool = await open_pool(dsn)
        try:
            await body(pool)
        finally:
            await pool.close()

    asyncio.run(main())


async def new_job(pool: DictPool) -> int:
    async with pool.connection() as conn:
        (sub,) = await submit_jobs(conn, [JobSpec(code="export default { run() {} }")], Settings())
    return int(sub.job_id)


def test_a_zombie_call_records_no_step_and_the_current_one_requeues_the_run(pg_dsn: str) -> None:
    async def body(pool: DictPool) -> None:
        job_id = await new_job(pool)
        old = await claim(pool, job_id)
        new = await claim(pool, job_id)
        zombie = await record(pool, [fin(old, suspended(step("a", "stale")))], POLICY)
        assert zombie.counts.get("progressed", 0) == 0
        s = state(pg_dsn, job_id)
        assert (s["status"], s["step_rows"]) == ("running", [])
        done = await record(pool, [fin(new, suspended(step("a", "fresh")))], POLICY)
        assert done.counts["progressed"] == 1
        s = state(pg_dsn, job_id)
        assert (s["status"], s["step_rows"], s["steps"]) == ("queued", [("a", "completed")], 1)
        assert s["messages"] == [s["msg_id"]] and s["msg_id"] != new.msg_id, "one new message, the old one gone"
        assert s["max_attempts"] == new.max_attempts + 1, "a call that made progress uses up no attempt"

    run(pg_dsn, body)


def test_a_step_and_its_queue_operation_commit_together_or_not_at_all(pg_dsn: str) -> None:
    async def body(pool: DictPool) -> None:
        job_id = await new_job(pool)
        row = await claim(pool, job_id)
        # A fault no real part shows on demand: the statement that moves the run fails after its step was saved.
        async with pool.connection() as conn:
            await conn.execute("CREATE FUNCTION fail_sleep() RETURNS trigger AS $$ BEGIN "
                               "RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql")
            await conn.execute("CREATE TRIGGER fail_sleep BEFORE INSERT ON job_events FOR EACH ROW "
                               "WHEN (NEW.to_status = 'sleeping') EXECUTE FUNCTION fail_sleep()")
            await conn.commit()
        o = suspended(step("a"), {"kind": "sleep", "name": "nap", "until_ms": 4e12})
        with pytest.raises(psycopg.errors.RaiseException):
            await record(pool, [fin(row, o)], POLICY)
        s = state(pg_dsn, job_id)
        assert (s["status"], s["step_rows"], s["messages"]) == ("running", [], [row.msg_id]), "nothing half-written"
        async with pool.connection() as conn:
            await conn.execute("DROP TRIGGER fail_sleep ON job_events")
            await conn.commit()
        done = await record(pool, [fin(row, o)], POLICY)
        assert done.counts["progressed"] == 1 and done.next_retry_at is not None
        s = state(pg_dsn, job_id)
        assert (s["status"], s["step_rows"]) == ("sleeping", [("a", "completed"), ("nap", "sleeping")])

    run(pg_dsn, body)


def test_an_event_sent_while_the_run_runs_is_taken_when_it_reaches_its_wait(pg_dsn: str) -> None:
    async def body(pool: DictPool) -> None:
        job_id = await new_job(pool)
        row = await claim(pool, job_id)
        sent = await inbox.send(pool, job_id, "go", {"n": 1})
        assert sent.sent is not None and sent.sent.delivered_to is None
        o = suspended({"kind": "wait", "name": "w", "event_type": "go", "timeout_ms": 60_000})
        await record(pool, [fin(row, o)], POLICY)
        s = state(pg_dsn, job_id)
        assert (s["status"], s["step_rows"]) == ("queued", [("w", "completed")]), "it did not wait at all"
        again = await claim(pool, job_id)
        o2 = suspended({"kind": "wait", "name": "w2", "event_type": "go", "timeout_ms": 60_000})
        await record(pool, [fin(again, o2)], POLICY)
        assert state(pg_dsn, job_id)["status"] == "waiting", "the event was taken once"
        woke = await inbox.send(pool, job_id, "go", {"n": 2})
        assert woke.sent is not None and woke.sent.delivered_to == "w2"
        s = state(pg_dsn, job_id)
        assert (s["status"], s["step_rows"]) == ("queued", [("w", "completed"), ("w2", "completed")])
        assert len(s["messages"]) == 1

    run(pg_dsn, body)


def test_a_report_of_a_completed_step_or_past_max_steps_fails_the_run(pg_dsn: str) -> None:
    async def body(pool: DictPool) -> None:
        job_id = await new_job(pool)
        row = await claim(pool, job_id)
        await record(pool, [fin(row, suspended(step("a", 1)))], POLICY)
        again = await claim(pool, job_id)
        await record(pool, [fin(again, suspended(step("a", 666)))], POLICY, Settings())
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            job = conn.execute("SELECT status, error FROM jobs_state WHERE job_id = %s", (job_id,)).fetchone()
            kept = conn.execute("SELECT result FROM job_steps WHERE job_id = %s", (job_id,)).fetchone()
        assert job is not None and job[0] in ("retrying", "failed") and job[1]["name"] == "WorkflowError"
        assert kept == (1,), "the stored result was not overwritten"

        other = await new_job(pool)
        r1 = await claim(pool, other)
        await record(pool, [fin(r1, suspended(step("x")))], POLICY, Settings(DYMUNIM_MAX_STEPS=1))  # type: ignore[call-arg]
        r2 = await claim(pool, other)
        await record(pool, [fin(r2, suspended(step("y")))], POLICY, Settings(DYMUNIM_MAX_STEPS=1))  # type: ignore[call-arg]
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            e = conn.execute("SELECT error FROM jobs_state WHERE job_id = %s", (other,)).fetchone()
        assert e is not None and "DYMUNIM_MAX_STEPS" in e[0]["message"]

    run(pg_dsn, body)


def test_a_run_keeps_a_bounded_number_of_untaken_events(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox, "MAX_KEPT", 3)

    async def body(pool: DictPool) -> None:
        job_id = await new_job(pool)
        kept = [await inbox.send(pool, job_id, "t", i) for i in range(4)]
        assert [k.sent is not None for k in kept] == [True, True, True, False] and kept[3].full
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            n = conn.execute("SELECT count(*) FROM job_inbox WHERE job_id = %s", (job_id,)).fetchone()
        assert n == (3,), "the refused event changed nothing"
        gone = await inbox.send(pool, 10**12, "t", None)
        assert (gone.status_before, gone.sent) == (None, None)

    run(pg_dsn, body)
