"""Wait for a job to finish, or a workflow run to park (sleeping, waiting): woken by NOTIFY, re-checked
from the table."""

from __future__ import annotations

import asyncio
import contextlib
import time

from dymunim.db.pool import DictPool
from dymunim.domain import PARKED, TERMINAL
from dymunim.notify.hub import EventHub
from dymunim.store import jobs as store_jobs

RECHECK_S = 2.0  # a missed notification must not hang a waiter


async def wait_settled(pool: DictPool, hub: EventHub, job_id: int, seconds: float) -> None:
    """Return once the job is terminal, sleeping or waiting (a workflow run stays so for as long as its code
    says: nothing is gained by holding the request), or `seconds` pass."""
    deadline = time.monotonic() + seconds
    with hub.watch_job(job_id) as changed:
        while True:
            changed.clear()
            if await store_jobs.status(pool, job_id) in TERMINAL | PARKED:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(left, RECHECK_S))
