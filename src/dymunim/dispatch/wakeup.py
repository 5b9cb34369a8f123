"""Wake the dispatcher the moment pgmq inserts a message (pgmq.enable_notify_insert + LISTEN)."""

from __future__ import annotations

import asyncio
import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

INSERT_CHANNEL = "pgmq.q_jobs.INSERT"  # pgmq names it pgmq.<queue table>.<op>


async def listen_for_inserts(dsn: str, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Set `wake` on every insert notification; reconnect if the database goes away."""
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(INSERT_CHANNEL)))
                wake.set()  # anything inserted while we were not listening
                gen = conn.notifies()
                async for _ in gen:
                    wake.set()
                    if stop.is_set():
                        break
        except (psycopg.OperationalError, OSError) as exc:
            log.warning("insert listener lost its connection (%s); reconnecting", exc)
            wake.set()
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass
