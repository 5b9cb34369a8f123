"""Wake the dispatcher the moment messages are committed to the `jobs` queue.

The NOTIFY (0008_claim_cursor.sql) carries the smallest msg_id its statement inserted: a dispatcher
whose claim cursor already passed it steps back, so a transaction that took its msg_ids early and
committed late is not left to the sweep.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

INSERT_CHANNEL = "pgmq.q_jobs.INSERT"  # pgmq names it pgmq.<queue table>.<op>


async def listen_for_inserts(dsn: str, inserted: Callable[[int | None], None], stop: asyncio.Event) -> None:
    """Call `inserted(smallest msg_id)` on every insert notification, `inserted(None)` when inserts may
    have gone unheard (at start, after a reconnect); reconnect if the database goes away."""
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(
                dsn, autocommit=True, application_name="dymunim dispatcher listener"
            ) as conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(INSERT_CHANNEL)))
                inserted(None)  # anything inserted while we were not listening
                gen = conn.notifies()
                async for n in gen:
                    inserted(_first_msg_id(n.payload))
                    if stop.is_set():
                        break
        except (psycopg.OperationalError, OSError) as exc:
            log.warning("insert listener lost its connection (%s); reconnecting", exc)
            inserted(None)
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass


def _first_msg_id(payload: str) -> int | None:
    """The smallest msg_id a notification names; None for any other payload (pgmq's own, an older one)."""
    try:
        return int(payload)
    except ValueError:
        return None
