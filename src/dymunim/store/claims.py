"""Claims: read messages from pgmq, start their jobs' attempts, keep them hidden while they run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import tuple_row

from dymunim.db.pool import DictConn
from dymunim.store.models import Claimed
from dymunim.store.sql import q


@dataclass(frozen=True, slots=True)
class Claim:
    """What one claim took: attempts to run, attempts to bury (poison), and messages with nothing to run."""

    ready: list[Claimed]
    poison: list[Claimed]
    stale: list[int]
    # Where the claim cursor may move: every message at or below it was taken by this claim, is not due
    # yet, or is another claim's. None: nowhere (a full sweep may have left due messages anywhere).
    cursor: int | None
    # A sweep that took less than it asked for: the database's time before it, when every message then
    # due (and visible) was taken. None otherwise.
    swept_to: datetime | None


async def claim(conn: DictConn, *, vt_s: int, qty: int, max_deliveries: int, after: int | None,
                due_from: datetime | None = None) -> Claim:
    """Take up to qty visible messages, hidden for vt_s seconds, and start their jobs' attempts with the
    next attempt number (the fencing token), in one statement. A job still running lost its previous
    attempt: that attempt is recorded as lost in the same statement. A message delivered more than
    max_deliveries times is poison: its attempt starts, to be buried rather than run.

    With `after` (a cursor): only messages above that msg_id, oldest first. Without: the sweep, earliest
    due first wherever they are (retries, delayed jobs, lost attempts), those due since `due_from` if
    given."""
    # Through the indexes (the primary key from the cursor, the vt index for a sweep) whatever the
    # statistics say: a plan made while the queue was tiny sorted the whole queue at every claim once it
    # was deep (idle 6 -> 17 ms, a 100k drain 3x slower), and autovacuum's statistics lag a filling
    # queue. Planning every call instead cost ~1 ms per claim.
    # Both statements (and the transaction's BEGIN) go out in one round trip: under CPU pressure every
    # round trip is a wait for the scheduler on both sides, and the claim's p99 paid for each.
    async with conn.pipeline():
        start_cur = conn.cursor(row_factory=tuple_row)  # a dict per row cost more than the claim's own Python
        cur = conn.cursor(row_factory=tuple_row)
        await start_cur.execute(q("claim_start"))
        await cur.execute(q("claim"), {"vt": vt_s, "qty": qty, "max_deliveries": max_deliveries,
                                       "after": after, "due_from": due_from})
        start = await start_cur.fetchone()
        rows = await cur.fetchall()
    queue_end, db_now = (start[1], start[2]) if start else (None, None)
    ready: list[Claimed] = []
    poison: list[Claimed] = []
    stale: list[int] = []
    # In msg_id order, everything up to the last message taken is taken, not due, or another claim's;
    # a claim that took less than qty took all that was due, up to the end of the queue.
    # A sweep that took less than qty also took everything due: its window starts where the last one
    # that did so began (5 s earlier), and the first sweep reads the whole index.
    cursor = max(r[3] for r in rows) if after is not None and rows else None  # r[3]: msg_id
    if len(rows) < qty and queue_end is not None:
        cursor = max(cursor or 0, queue_end)
    for runnable, is_poison, *fields in rows:
        if not runnable:
            stale.append(fields[1])  # msg_id
        elif is_poison:
            poison.append(Claimed(*fields))
        else:
            ready.append(Claimed(*fields))
    return Claim(ready, poison, stale, cursor, db_now if after is None and len(rows) < qty else None)


async def drop(conn: DictConn, msg_ids: list[int]) -> None:
    """Delete messages whose job needs no run."""
    await conn.execute(q("delete_messages"), {"msg_ids": msg_ids})


async def extend(conn: DictConn, msg_ids: list[int], *, vt_s: int) -> None:
    """Keep running jobs' messages hidden vt_s more seconds."""
    await conn.execute(q("extend_visibility"), {"msg_ids": msg_ids, "vt": vt_s})


async def release(conn: DictConn, msg_ids: list[int]) -> None:
    """Make messages visible again at once (a stopping dispatcher hands them back)."""
    await conn.execute(q("release_messages"), {"msg_ids": msg_ids})
