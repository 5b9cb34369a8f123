"""pgqueuer 1.6.0 peer for bench/peers.py; runs with the python of its own venv (bench/.peers/pgqueuer-venv).

The connection comes from the PG* environment variables (asyncpg reads them; PGHOST may be a unix
socket directory). Protocol lines on stdout start with "@@ "; pgqueuer's own log goes to stderr.

    runner.py enqueue N   enqueue N no-op jobs, 10,000 per batched Queries.enqueue call
    runner.py worker      connect, print "@@ loaded", then on stdin:
                          "go"   -> QueueManager.run(batch_size=100), print "@@ started"
                          "stop" -> shut down, print "@@ ran <no-op jobs run here>", exit
                          EOF    -> exit at once (the parent is gone)
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

import asyncpg
from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager
from pgqueuer.adapters.cli.cli import asyncio_run

BATCH_SIZE = 100
ENQUEUE_CHUNK = 10_000


def say(line: str) -> None:
    print(f"@@ {line}", flush=True)


async def enqueue(n: int) -> None:
    conn = await asyncpg.connect()
    try:
        queries = Queries(AsyncpgDriver(conn))
        t0 = time.perf_counter()
        added = 0
        for start in range(0, n, ENQUEUE_CHUNK):
            k = min(ENQUEUE_CHUNK, n - start)
            added += len(await queries.enqueue(["noop"] * k, [None] * k, [0] * k))
        say(f"added {added} {time.perf_counter() - t0}")
    finally:
        await conn.close()


async def worker() -> None:
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        os._exit(3)  # stdin closed: the parent is gone

    conn = await asyncpg.connect()
    qm = QueueManager(Queries(AsyncpgDriver(conn)))
    ran = 0

    @qm.entrypoint("noop")
    async def noop(job: Job) -> None:
        nonlocal ran
        ran += 1

    threading.Thread(target=read_stdin, daemon=True).start()
    say("loaded")
    while (await commands.get()) != "go":
        pass
    run = asyncio.create_task(qm.run(batch_size=BATCH_SIZE))
    say("started")
    stop = asyncio.create_task(commands.get())
    while True:
        done, _ = await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
        if run in done:
            run.result()  # raises if the worker failed
            raise RuntimeError("QueueManager.run returned before it was told to stop")
        if stop.result() == "stop":
            break
        stop = asyncio.create_task(commands.get())
    qm.shutdown.set()
    await run
    await conn.close()
    say(f"ran {ran}")


def main() -> None:
    mode = sys.argv[1]
    if mode == "enqueue":
        asyncio_run(enqueue(int(sys.argv[2])))
    elif mode == "worker":
        asyncio_run(worker())
    else:
        raise SystemExit(f"mode? {mode}")


if __name__ == "__main__":
    main()
