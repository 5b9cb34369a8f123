"""Workflow steps and the events sent to runs: each function is one named statement."""

from __future__ import annotations

from typing import Any

from dymunim.db.pool import DictConn
from dymunim.jsonbytes import dumps
from dymunim.store.models import InboxEvent, Step
from dymunim.store.sql import q


def _json(doc: Any) -> str:
    return dumps(doc, default=str).decode()


async def of_runs(conn: DictConn, job_ids: list[int]) -> list[dict[str, Any]]:
    """Stored steps of these runs, in the order each reached them."""
    return await (await conn.execute(q("workflow_steps"), {"job_ids": job_ids})).fetchall()


async def lock_current(conn: DictConn, attempts: dict[int, int]) -> set[int]:
    """Lock the runs whose attempt is still `attempts[job_id]` and `running`; those are returned."""
    rows = await (await conn.execute(q("lock_runs"), {"job_ids": sorted(attempts)})).fetchall()
    return {r["job_id"] for r in rows if r["attempts"] == attempts[r["job_id"]]}


async def take_events(conn: DictConn, waits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return await (await conn.execute(q("take_events"), {"waits": _json(waits)})).fetchall()


async def save(conn: DictConn, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return await (await conn.execute(q("save_steps"), {"steps": _json(steps)})).fetchall()


async def settle(conn: DictConn, steps: list[dict[str, Any]]) -> None:
    await conn.execute(q("settle_steps"), {"steps": _json(steps)})


async def count(conn: DictConn, job_ids: list[int]) -> None:
    await conn.execute(q("count_steps"), {"job_ids": job_ids})


async def progress(conn: DictConn, runs: list[dict[str, Any]]) -> list[int]:
    """Runs that stopped at a step: their status and a new message due when they go on."""
    return [r["job_id"] for r in await (await conn.execute(q("record_progress"), {"runs": _json(runs)})).fetchall()]


async def history(conn: DictConn, job_id: int) -> list[Step]:
    return [Step.model_validate(r) for r in await (await conn.execute(q("job_steps"), {"job_id": job_id})).fetchall()]


async def inbox(conn: DictConn, job_id: int) -> list[InboxEvent]:
    rows = await (await conn.execute(q("job_inbox"), {"job_id": job_id})).fetchall()
    return [InboxEvent.model_validate(r) for r in rows]


async def lock_job(conn: DictConn, job_id: int) -> str | None:
    row = await (await conn.execute(q("lock_job"), {"job_id": job_id})).fetchone()
    return row["status"] if row else None


async def waiting_step(conn: DictConn, job_id: int) -> dict[str, Any] | None:
    return await (await conn.execute(q("waiting_step"), {"job_id": job_id})).fetchone()


async def open_inbox(conn: DictConn, job_id: int) -> int:
    row = await (await conn.execute(q("open_inbox"), {"job_id": job_id})).fetchone()
    return int(row["n"]) if row else 0


async def add_inbox(conn: DictConn, job_id: int, type_: str, payload: Any, taken_by: str | None) -> dict[str, Any]:
    row = await (await conn.execute(q("add_inbox"), {"job_id": job_id, "type": type_, "payload": _json(payload),
                                                     "taken_by": taken_by})).fetchone()
    assert row is not None
    return row


async def wake(conn: DictConn, job_id: int, name: str, type_: str, event: Any) -> bool:
    row = await (await conn.execute(q("wake_waiting"), {"job_id": job_id, "name": name, "type": type_,
                                                        "event": _json(event)})).fetchone()
    return bool(row and row["woken"])
