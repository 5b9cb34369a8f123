"""Raw pgmq as the peer of dymunim under the benchmarking harness's contract (the comparison the issue asks for).

Queue `bench_peer` in DATABASE_URL: the producer sends with pgmq.send_batch; WORKER_COUNT consumers,
each on its own connection, loop `pgmq.read(q, 30, 1)`, sleep JOB_WORK_MS, `pgmq.archive`. Claim
latency = wall clock at the read - the message's enqueued_at (the database's clock, as dymunim's
created_at). Every loop reconnects after an error (Postgres restart, pg_terminate_backend).

The queue is created if missing, never dropped: a restarted replica carries on with what the killed
one left, as dymunim's does. pgmq comes from the server's extension, or the SQL the `pgmq` wheel ships.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
from harness_common import (
    BenchEnv,
    Counters,
    Depths,
    LatencyWindow,
    OutcomeLog,
    descriptor,
    hard_exit_after,
    padding,
    produce,
    repo_version,
    sample,
)
from psycopg.types.json import Jsonb

SYSTEM = "pgmq"
QUEUE = "bench_peer"
EVENT_TABLES = [f"pgmq.q_{QUEUE}", f"pgmq.a_{QUEUE}"]
VT_S = 30
EXIT_BUDGET_S = 4.5
REPO = Path(__file__).resolve().parents[2]

log = logging.getLogger("pgmq-adapter")


async def connect(dsn: str, stop: asyncio.Event) -> psycopg.AsyncConnection[Any] | None:
    """A connection, retried every 0.2 s while the database is away; None once stopping."""
    while not stop.is_set():
        try:
            return await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=5)
        except (psycopg.Error, OSError) as exc:
            log.warning("connect failed (%s); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
    return None


async def install(dsn: str, stop: asyncio.Event) -> str:
    """pgmq (extension when the server has it) and the queue; returns pgmq's version."""
    deadline = time.monotonic() + 60
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=5) as conn:
                cur = await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pgmq'")
                if await cur.fetchone():
                    await conn.execute("CREATE EXTENSION IF NOT EXISTS pgmq")
                else:
                    cur = await conn.execute("SELECT to_regclass('pgmq.meta') IS NOT NULL")
                    row = await cur.fetchone()
                    if not (row and row[0]):
                        from pgmq.install import get_embedded_install_sql

                        await conn.execute(get_embedded_install_sql().encode())
                await conn.execute("SELECT pgmq.create(%s)", (QUEUE,))
                cur = await conn.execute("SELECT COALESCE((SELECT extversion FROM pg_extension"
                                         " WHERE extname = 'pgmq'), 'sql')")
                row = await cur.fetchone()
                return str(row[0]) if row else "sql"
        except (psycopg.OperationalError, OSError) as exc:
            if time.monotonic() > deadline or stop.is_set():
                raise
            log.warning("install: database unavailable (%s); retrying", exc)
            await asyncio.sleep(0.5)


async def consumer(dsn: str, env: BenchEnv, counters: Counters, claim: LatencyWindow, e2e: LatencyWindow,
                   outcomes: OutcomeLog, stop: asyncio.Event) -> None:
    conn: psycopg.AsyncConnection[Any] | None = None
    while not stop.is_set():
        if conn is None or conn.closed:
            conn = await connect(dsn, stop)
            if conn is None:
                return
        try:
            cur = await conn.execute("SELECT msg_id, enqueued_at FROM pgmq.read(%s, %s, 1)", (QUEUE, VT_S))
            row = await cur.fetchone()
            if row is None:
                await asyncio.sleep(0.05)
                continue
            msg_id, enqueued_at = int(row[0]), row[1].timestamp()
            claim.add((time.time() - enqueued_at) * 1000)
            if env.job_work_ms:
                await asyncio.sleep(env.job_work_ms / 1000)
            outcomes.write([(msg_id, 0)])
            await conn.execute("SELECT pgmq.archive(%s, %s::bigint)", (QUEUE, msg_id))
            counters.completed += 1
            e2e.add((time.time() - enqueued_at) * 1000)
        except (psycopg.Error, OSError) as exc:
            log.warning("consumer: %s; reconnecting", exc)
            with contextlib.suppress(psycopg.Error, OSError):
                await conn.close()
            conn = None
    if conn is not None:
        with contextlib.suppress(psycopg.Error, OSError):
            await conn.close()


async def poll_depth(dsn: str, depths: Depths, stop: asyncio.Event, every: float) -> None:
    conn: psycopg.AsyncConnection[Any] | None = None
    while not stop.is_set():
        if conn is None or conn.closed:
            conn = await connect(dsn, stop)
            if conn is None:
                return
        try:
            cur = await conn.execute("SELECT count(*) FILTER (WHERE vt <= now()), count(*) FILTER (WHERE vt > now())"
                                     " FROM pgmq.q_bench_peer")  # the table of QUEUE
            row = await cur.fetchone()
            if row is not None:
                depths.polled(int(row[0]), int(row[1]))
        except (psycopg.Error, OSError) as exc:
            log.warning("depth poll: %s; reconnecting", exc)
            conn = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    if conn is not None:
        with contextlib.suppress(psycopg.Error, OSError):
            await conn.close()


async def main() -> None:
    env = BenchEnv.from_environ()
    dsn = env.database_url
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_term() -> None:
        if not stop.is_set():
            stop.set()
            hard_exit_after(EXIT_BUDGET_S, lambda: None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_term)

    version = await install(dsn, stop)
    counters, claim, e2e, depths = Counters(), LatencyWindow(), LatencyWindow(), Depths()
    outcomes = OutcomeLog(env.outcome_log)
    producer_conn: list[psycopg.AsyncConnection[Any]] = []
    seq = 0

    async def send(n: int) -> None:
        nonlocal seq
        if not producer_conn or producer_conn[0].closed:
            producer_conn[:] = []
            conn = await connect(dsn, stop)
            if conn is None:
                raise psycopg.OperationalError("stopping")
            producer_conn.append(conn)
        msgs = []
        for _ in range(n):
            seq += 1
            base = {"seq": seq, "work_ms": env.job_work_ms, "instance": env.instance_id}
            msgs.append(Jsonb({**base, "pad": padding(env.job_payload_bytes, base)}))
        try:
            await producer_conn[0].execute("SELECT pgmq.send_batch(%s, %s::jsonb[])", (QUEUE, msgs))
        except (psycopg.Error, OSError):
            with contextlib.suppress(psycopg.Error, OSError):
                await producer_conn[0].close()
            raise

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute("SELECT current_database(), array(SELECT extname FROM pg_extension"
                                 " WHERE extname IN ('pgmq', 'pgstattuple') ORDER BY 1)")
        row = await cur.fetchone()
    db_name, extensions = (str(row[0]), list(row[1])) if row else ("", [])
    descriptor(SYSTEM, EVENT_TABLES, extensions, repo_version(str(REPO)), f"pgmq {version}", db_name)

    tasks = [
        asyncio.create_task(produce(env, counters, send, depths, stop, (psycopg.Error, OSError)), name="producer"),
        asyncio.create_task(sample(env, SYSTEM, counters, claim, e2e, depths, stop), name="sampler"),
    ] + [asyncio.create_task(consumer(dsn, env, counters, claim, e2e, outcomes, stop), name=f"consumer-{i}")
         for i in range(env.worker_count)]
    if env.observer or env.producer_mode == "depth-target":
        every = 0.25 if env.producer_mode == "depth-target" else 1.0
        tasks.append(asyncio.create_task(poll_depth(dsn, depths, stop, every), name="depth"))
    await stop.wait()
    # Consumers finish the message in hand (a millisecond of work) before they see the stop.
    _, pending = await asyncio.wait(tasks, timeout=2.0)
    for t in pending:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in producer_conn:
        with contextlib.suppress(psycopg.Error, OSError):
            await c.close()
    print(json.dumps({"pgmq_adapter": "stopped", "enqueued": counters.enqueued, "completed": counters.completed,
                      "send_failures": counters.send_failures}), file=sys.stderr, flush=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s pgmq-adapter %(levelname)s %(name)s: %(message)s")
    asyncio.run(main())
