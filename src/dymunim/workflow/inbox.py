"""Events sent to a run (POST /api/jobs/{id}/events): a waiting run takes one of its type at once;
any other run that has not finished keeps it until it waits for that type.

The job's row is locked first, so a delivery and the recorder (which takes kept events when the run
reaches its wait) never miss each other: one of the two sees the other's commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dymunim.db.pool import DictPool
from dymunim.domain import TERMINAL, JobStatus
from dymunim.store import steps as store
from dymunim.store.models import SentEvent

MAX_KEPT = 1000  # events a run keeps untaken: a sender cannot grow a run's inbox without end


@dataclass(frozen=True)
class Delivery:
    status_before: JobStatus | None  # None: no such job
    sent: SentEvent | None  # None: nothing was kept (the job has finished, or its inbox is full)
    full: bool = False


async def send(pool: DictPool, job_id: int, type_: str, payload: Any) -> Delivery:
    async with pool.connection() as conn, conn.transaction():
        found = await store.lock_job(conn, job_id)
        if found is None:
            return Delivery(None, None)
        status = JobStatus(found)
        if status in TERMINAL:
            return Delivery(status, None)
        step: str | None = None
        if status == JobStatus.WAITING:
            waiting = await store.waiting_step(conn, job_id)
            if waiting is not None and waiting["event_type"] == type_:
                step = waiting["name"]
        if step is None and await store.open_inbox(conn, job_id) >= MAX_KEPT:
            return Delivery(status, None, full=True)
        kept = await store.add_inbox(conn, job_id, type_, payload, step)
        if step is not None:
            event = {"type": type_, "payload": payload, "timestamp": kept["received_at"]}
            await store.wake(conn, job_id, step, type_, event)
        return Delivery(status, SentEvent(inbox_id=kept["inbox_id"], job_id=job_id, type=type_, delivered_to=step))
