"""Events and chains on a real Postgres: a publish starts one job per subscribed worker once, and a
job's children are created with its success only (the recorder's transaction is the outbox)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from dymunim.db.migrate import migrate
from dymunim.db.pool import DictPool, open_pool
from dymunim.record.outcomes import Attempt, Finished, record
from dymunim.record.policy import RetryPolicy
from dymunim.settings import Settings
from dymunim.store import claims
from dymunim.store import events as store_events
from dymunim.store.models import Claimed
from dymunim.submit import workers as saved
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec
from dymunim.trigger.events import EventIn, EventKeyReused, publish

SETTINGS = Settings()
POLICY = RetryPolicy(0.01, 0.01)


def rows(dsn: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(sql.encode(), args).fetchall()


async def worker(pool: DictPool, name: str, *patterns: str) -> str:
    wid = await saved.save(pool, SETTINGS, name=name, code=f"return '{name}'", language="javascript", cache_id=None)
    for p in patterns:
        await store_events.subscribe(pool, wid, p)
    return wid


def test_a_publish_starts_one_job_per_subscribed_worker_once_however_often_it_is_sent(fresh_dsn: str) -> None:
    migrate(fresh_dsn)

    async def main() -> tuple[list[str], str]:
        pool = await open_pool(fresh_dsn, max_size=8)
        try:
            exact = await worker(pool, "exact", "order.paid")
            prefix = await worker(pool, "prefix", "order.*", "order.paid")  # two patterns match: still one job
            every = await worker(pool, "every", "*")
            await worker(pool, "other", "user.created")

            async def send() -> int:
                async with pool.connection() as conn, conn.transaction():
                    done = await publish(conn, SETTINGS, EventIn("order.paid", {"order": 7}, idempotency_key="pay-7"))
                return done.event_id

            ids = await asyncio.gather(*(send() for _ in range(6)))  # a client retrying, some at once
            assert len(set(ids)) == 1
            async with pool.connection() as conn:
                with pytest.raises(EventKeyReused, match="other name or data"):
                    await publish(conn, SETTINGS, EventIn("order.paid", {"order": 8}, idempotency_key="pay-7"))
            return [exact, prefix, every], str(ids[0])
        finally:
            await pool.close()

    subscribed, event_id = asyncio.run(main())
    jobs = rows(fresh_dsn, "SELECT worker_id, worker_version, event_id, payload, trace_id, status FROM jobs_state "
                "ORDER BY worker_id")
    assert sorted(j["worker_id"] for j in jobs) == sorted(subscribed)
    assert all(j["event_id"] == int(event_id) and j["worker_version"] == 1 and j["status"] == "queued" for j in jobs)
    assert all(j["payload"]["name"] == "order.paid" and j["payload"]["data"] == {"order": 7} for j in jobs)
    assert len({j["trace_id"] for j in jobs}) == 1 and jobs[0]["trace_id"], "one correlation id for the fan-out"
    assert rows(fresh_dsn, "SELECT count(*) AS n FROM pgmq.q_jobs")[0]["n"] == 3


def ok(result: object, effects: list[dict[str, Any]]) -> Any:
    return {"ok": True, "result": result, "error": None, "logs": [], "logs_truncated": False, "duration_ms": 1.0,
            "cold": False, "effects": effects}


async def claimed(pool: DictPool, spec: JobSpec) -> Claimed:
    async with pool.connection() as conn:
        (sub,) = await submit_jobs(conn, [spec], SETTINGS)
        async with conn.transaction():
            await conn.execute("UPDATE pgmq.q_jobs SET vt = now() WHERE (message->>'job_id')::bigint = %s",
                               (sub.job_id,))
            took = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=None)
    (row,) = [r for r in took.ready if r.job_id == sub.job_id]
    return row


def attempt(row: Claimed, max_attempts: int = 3, retry_on_error: bool = True) -> Attempt:
    return Attempt(row.job_id, row.attempts, row.msg_id, max_attempts, retry_on_error, trace_id=row.trace_id)


def test_children_start_with_the_parents_success_once_and_never_with_a_failure(fresh_dsn: str) -> None:
    migrate(fresh_dsn)
    effects = [
        {"type": "enqueue", "worker_id": None, "code": "return payload * 2", "payload": 21, "delay_ms": None,
         "idempotency_key": None},
        {"type": "publish", "name": "parent.done", "data": {"n": 1}, "idempotency_key": None},
    ]

    async def main() -> tuple[int, int, str]:
        pool = await open_pool(fresh_dsn, max_size=4)
        try:
            listener = await worker(pool, "listener", "parent.done")
            parent = await claimed(pool, JobSpec(code="return 1", trace_id="chain-1"))
            # A failed attempt that asked for children starts none (and is retried).
            failed = {**ok(None, effects), "ok": False, "error": {"name": "Error", "message": "no", "stack": None}}
            await record(pool, [Finished(attempt(parent), failed)], POLICY, SETTINGS)
            assert rows(fresh_dsn, "SELECT count(*) AS n FROM jobs_state WHERE parent_job_id IS NOT NULL")[0]["n"] == 0
            second = await _claim_job(pool, parent.job_id)  # its retry
            done = Finished(attempt(second), ok(1, effects))
            assert (await record(pool, [done], POLICY, SETTINGS)).counts["final"] == 1
            # The same outcome recorded again (a dispatcher retrying a record it thought failed): fenced off.
            assert (await record(pool, [done], POLICY, SETTINGS)).counts["final"] == 0
            return parent.job_id, second.attempts, listener
        finally:
            await pool.close()

    parent_id, attempts, listener = asyncio.run(main())
    assert attempts == 2
    kids = rows(fresh_dsn, "SELECT job_id, parent_job_id, payload, trace_id, idempotency_key FROM jobs_state "
                "WHERE parent_job_id = %s", parent_id)
    assert [(k["payload"], k["trace_id"], k["idempotency_key"]) for k in kids] == [
        (21, "chain-1", f"chain:{parent_id}:0")]
    events = rows(fresh_dsn, "SELECT event_id, name, source_job_id, trace_id FROM published_events")
    assert [(e["name"], e["source_job_id"], e["trace_id"]) for e in events] == [("parent.done", parent_id, "chain-1")]
    fanned = rows(fresh_dsn, "SELECT worker_id, trace_id FROM jobs_state WHERE event_id = %s", events[0]["event_id"])
    assert fanned == [{"worker_id": listener, "trace_id": "chain-1"}]


async def _claim_job(pool: DictPool, job_id: int) -> Claimed:
    for _ in range(100):
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("UPDATE pgmq.q_jobs SET vt = now() WHERE (message->>'job_id')::bigint = %s", (job_id,))
            took = await claims.claim(conn, vt_s=30, qty=10, max_deliveries=10, after=None)
        found = [r for r in took.ready if r.job_id == job_id]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"job {job_id} was never claimable again")


def test_a_child_that_cannot_start_fails_its_parent_and_nothing_is_created(fresh_dsn: str) -> None:
    migrate(fresh_dsn)

    async def main() -> int:
        pool = await open_pool(fresh_dsn, max_size=4)
        try:
            parent = await claimed(pool, JobSpec(code="return 1", max_attempts=1))
            effects = [{"type": "enqueue", "worker_id": None, "code": "return 1", "payload": 1, "delay_ms": None,
                        "idempotency_key": None},
                       {"type": "enqueue", "worker_id": "w_missing", "code": None, "payload": 1, "delay_ms": None,
                        "idempotency_key": None}]
            done = Finished(attempt(parent, max_attempts=1, retry_on_error=False), ok(1, effects))
            await record(pool, [done], POLICY, SETTINGS)
            return parent.job_id
        finally:
            await pool.close()

    parent_id = asyncio.run(main())
    (job,) = rows(fresh_dsn, "SELECT status, error, result FROM jobs_state WHERE job_id = %s", parent_id)
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["name"] == "ChainError" and "worker w_missing does not exist" in job["error"]["message"]
    assert "call 2" in job["error"]["message"]
    assert rows(fresh_dsn, "SELECT count(*) AS n FROM jobs_state WHERE parent_job_id IS NOT NULL")[0]["n"] == 0


def test_a_key_the_job_chose_for_another_child_fails_the_job_saying_so(fresh_dsn: str) -> None:
    migrate(fresh_dsn)

    def enqueue(payload: object, key: str) -> dict[str, Any]:
        return {"type": "enqueue", "worker_id": None, "code": "return payload", "payload": payload,
                "delay_ms": None, "idempotency_key": key}

    async def main() -> dict[str, int]:
        pool = await open_pool(fresh_dsn, max_size=4)
        try:
            async with pool.connection() as conn:
                (held,) = await submit_jobs(conn, [JobSpec(code="return payload", payload=1, idempotency_key="k-1")],
                                            SETTINGS)
            async with pool.connection() as conn, conn.transaction():
                await publish(conn, SETTINGS, EventIn("order.paid", {"n": 1}, idempotency_key="e-1"))
            cases = {
                "repeat": [enqueue(1, "k-1")],  # the same request again: no new child, the parent succeeds
                "other job": [enqueue(2, "k-1")],
                "other event": [{"type": "publish", "name": "order.paid", "data": {"n": 2},
                                 "idempotency_key": "e-1"}],
                "twice": [enqueue(3, "k-2"), enqueue(4, "k-2")],
            }
            parents = {}
            for name, effects in cases.items():
                parent = await claimed(pool, JobSpec(code="return 1", max_attempts=1))
                done = Finished(attempt(parent, max_attempts=1, retry_on_error=False), ok(1, effects))
                await record(pool, [done], POLICY, SETTINGS)
                parents[name] = parent.job_id
            parents["held"] = held.job_id
            return parents
        finally:
            await pool.close()

    parents = asyncio.run(main())
    by_id = {r["job_id"]: r for r in rows(fresh_dsn, "SELECT job_id, status, error FROM jobs_state")}
    assert by_id[parents["repeat"]]["status"] == "succeeded"
    for name, says in [("other job", f"already names job {parents['held']}, started with another payload"),
                       ("other event", "already names event"), ("twice", "was already given to ctx.enqueue (call 1)")]:
        job = by_id[parents[name]]
        assert job["status"] == "failed" and job["error"]["name"] == "ChainError", (name, job)
        assert says in job["error"]["message"], (name, job["error"]["message"])
    assert rows(fresh_dsn, "SELECT count(*) AS n FROM jobs_state WHERE parent_job_id IS NOT NULL")[0]["n"] == 0
    assert rows(fresh_dsn, "SELECT count(*) AS n FROM published_events")[0]["n"] == 1
