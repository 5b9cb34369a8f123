"""The hot queries keep their cost flat as the tables grow: checked on the plans Postgres picks."""

from __future__ import annotations

import asyncio
import json

import psycopg
from psycopg import sql

from dymunim.db.migrate import migrate
from dymunim.db.pool import open_pool
from dymunim.settings import Settings
from dymunim.store import claims
from dymunim.store.models import Claimed
from dymunim.store.sql import q
from dymunim.submit.jobs import submit_jobs
from dymunim.submit.spec import JobSpec

SEED = """
INSERT INTO job_code (code_hash, code, language) VALUES ('plan', 'return 1', 'javascript');
INSERT INTO jobs_state (job_id, status, code_hash, timeout_ms)
SELECT g, CASE WHEN g % 5 = 0 THEN 'succeeded' ELSE 'queued' END, 'plan', 30000
FROM generate_series(1, 50000) g;
SELECT pgmq.send_batch('jobs', ARRAY(SELECT jsonb_build_object('job_id', g) FROM generate_series(1, 50000) g
                                     WHERE g % 5 <> 0));
"""


def plan_nodes(plan: dict) -> list[tuple[str, str | None]]:  # type: ignore[type-arg]
    out = [(plan.get("Node Type", ""), plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        out += plan_nodes(child)
    return out


def test_claim_finds_jobs_by_primary_key_however_deep_the_queue(pg_dsn: str) -> None:
    migrate(pg_dsn)
    with psycopg.connect(pg_dsn) as conn:
        for statement in SEED.strip().split(";\n"):
            conn.execute(statement.encode())
        # No ANALYZE on purpose: a queue fills faster than autovacuum refreshes statistics, and with
        # stale ones a status predicate in the claim made Postgres scan every queued job by status.
        conn.execute(q("claim_start"))  # as store.claims runs it
        row = conn.execute(b"EXPLAIN (FORMAT JSON) " + q("claim"),
                           {"vt": 30, "qty": 100, "max_deliveries": 10, "after": None, "due_from": None}).fetchone()
        assert row is not None
        plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
        nodes = plan_nodes(plan[0]["Plan"])
        conn.rollback()
    jobs_scans = [(t, i) for t, i in nodes if "Scan" in t and (i or "").startswith("jobs_state")]
    assert jobs_scans, nodes
    assert all(i == "jobs_state_pkey" for _, i in jobs_scans), f"claim must not scan by status: {nodes}"
    queue_scans = [(t, i) for t, i in nodes if "Scan" in t and (i or "").startswith("q_jobs")]
    assert ("Index Scan", "q_jobs_vt_idx") in queue_scans, f"due messages are found by vt: {nodes}"
    assert not any(t == "Seq Scan" for t, _ in nodes), f"claim must not scan a whole table: {nodes}"



def test_recording_outcomes_finds_jobs_by_primary_key(pg_dsn: str) -> None:
    """Without a status index (0007), recording once planned a scan of every job to find the running ones
    (seen with 5,000 jobs submitted and claimed the usual way, 250 of them running)."""
    migrate(pg_dsn)

    async def claimed() -> list[Claimed]:
        pool = await open_pool(pg_dsn, max_size=1)
        try:
            async with pool.connection() as conn:
                for _ in range(5):
                    await submit_jobs(conn, [JobSpec(code="return 1", payload=i) for i in range(1000)], Settings())
                await conn.execute("ANALYZE jobs_state")  # as autovacuum does while a queue fills
                await conn.commit()
                async with conn.transaction():
                    return (await claims.claim(conn, vt_s=30, qty=250, max_deliveries=10, after=0)).ready
        finally:
            await pool.close()

    rows = asyncio.run(claimed())
    doc = json.dumps([{"job_id": r.job_id, "attempt": r.attempts, "status": "succeeded", "result": 1, "error": None,
                       "logs": [], "logs_truncated": False, "duration_ms": 1.0, "cold": False, "run_at": None}
                      for r in rows])
    with psycopg.connect(pg_dsn) as conn:
        for name in ("record_final", "record_retry", "record_dead"):
            row = conn.execute(b"EXPLAIN (FORMAT JSON) " + q(name), {"outcomes": doc}).fetchone()
            assert row is not None
            plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
            nodes = plan_nodes(plan[0]["Plan"])
            assert not any(t == "Seq Scan" for t, _ in nodes), f"{name} must not scan a whole table: {nodes}"
        conn.rollback()


def test_a_claim_prepared_while_the_queue_was_tiny_still_walks_the_vt_index_when_it_is_deep(pg_dsn: str) -> None:
    """psycopg prepares a statement after a few runs, and Postgres may then keep a generic plan made for
    a tiny queue: one sorted the whole queue at every claim once it was deep (a 100k drain 3x slower)."""
    migrate(pg_dsn)

    async def main() -> list[tuple[str, str | None]]:
        pool = await open_pool(pg_dsn, max_size=1)
        try:
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM pgmq.q_jobs")  # other tests' messages
                await conn.commit()
                await conn.set_autocommit(True)
                await conn.execute("VACUUM ANALYZE pgmq.q_jobs")  # as autovacuum does while the queue is idle
                await conn.set_autocommit(False)
                for i in range(14):  # prepared from the 5th run on, its generic plan chosen after 5 more
                    await submit_jobs(conn, [JobSpec(code="return 1", payload=i)], Settings())
                    async with conn.transaction():
                        assert len((await claims.claim(conn, vt_s=30, qty=500, max_deliveries=10,
                                                         after=None)).ready) == 1
                for _ in range(20):
                    await submit_jobs(conn, [JobSpec(code="return 1", payload=i) for i in range(1000)], Settings())
                cur = await conn.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE %s",
                                         ("%UPDATE pgmq.q_jobs m%",))
                (row,) = await cur.fetchall()
                async with conn.transaction():
                    await conn.execute(q("claim_start"))
                    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                    # The generic plan, as an execution with parameters would use it (a sweep: no cursor).
                    explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {}(30, NULL, 500, NULL, 10)")
                    plan = await (await conn.execute(explain.format(sql.Identifier(row["name"])))).fetchone()
                    assert plan is not None
                return plan_nodes(plan["QUERY PLAN"][0]["Plan"])
        finally:
            await pool.close()

    nodes = asyncio.run(main())
    assert ("Index Scan", "q_jobs_vt_idx") in nodes, nodes  # the sweep
    assert ("Index Scan", "q_jobs_pkey") in nodes, nodes  # the claim from a cursor
    assert not any(t in ("Seq Scan", "Sort") for t, _ in nodes), f"the claim must not scan or sort the queue: {nodes}"
