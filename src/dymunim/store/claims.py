"""Claims: read messages from pgmq, start their jobs' attempts, keep them hidden while they run."""

from __future__ import annotations

from collections.abc import Sequence

from dymunim.db.pool import DictConn
from dymunim.store.models import Claimed, Message
from dymunim.store.sql import q


async def read(conn: DictConn, *, vt_s: int, qty: int) -> list[Message]:
    """Up to qty visible messages, hidden from other readers for vt_s seconds."""
    cur = await conn.execute(q("read_messages"), {"vt": vt_s, "qty": qty})
    return [Message(r["msg_id"], r["read_ct"], r["job_id"]) for r in await cur.fetchall()]


async def start(conn: DictConn, msgs: Sequence[Message]) -> list[Claimed]:
    """Mark the messages' jobs running with the next attempt number (the fencing token). A job still
    running lost its previous attempt: that attempt is recorded as lost here, in the same statement.
    Jobs that need no run (cancelled, finished, gone) are not returned."""
    cur = await conn.execute(q("claim_jobs"), {
        "msg_ids": [m.msg_id for m in msgs], "job_ids": [m.job_id for m in msgs],
    })
    return [Claimed(**r) for r in await cur.fetchall()]


async def drop(conn: DictConn, msg_ids: list[int]) -> None:
    """Archive messages whose job needs no run."""
    await conn.execute(q("archive_messages"), {"msg_ids": msg_ids})


async def extend(conn: DictConn, msg_ids: list[int], *, vt_s: int) -> None:
    """Keep running jobs' messages hidden vt_s more seconds."""
    await conn.execute(q("extend_visibility"), {"msg_ids": msg_ids, "vt": vt_s})


async def release(conn: DictConn, msg_ids: list[int]) -> None:
    """Make messages visible again at once (a stopping dispatcher hands them back)."""
    await conn.execute(q("release_messages"), {"msg_ids": msg_ids})
