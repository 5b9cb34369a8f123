"""The clock: every dispatcher fires due schedule ticks (trigger/schedules.py makes each fire once).

It sleeps until the earliest tick by the database's clock, at most SCHEDULER_MAX_SLEEP_S, so a
schedule created or resumed meanwhile fires within that much of its first tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

from dymunim.db.pool import DictPool
from dymunim.settings import Settings
from dymunim.store import schedules as store
from dymunim.trigger.schedules import fire_due

log = logging.getLogger(__name__)

SCHEDULER_MAX_SLEEP_S = 0.5
SCHEDULER_RETRY_S = 1.0


async def run_scheduler(settings: Settings, pool: DictPool, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            fired = await fire_due(pool, settings)
            if fired:
                log.info("fired %d scheduled jobs", fired)
            wait = await store.next_in(pool)
        except (psycopg.OperationalError, OSError) as exc:
            log.warning("firing schedules failed (%s); again in %.0f s", exc, SCHEDULER_RETRY_S)
            wait = SCHEDULER_RETRY_S
        except Exception:  # a bug must not stop the clock for good
            log.exception("firing schedules failed; again in %.0f s", SCHEDULER_RETRY_S)
            wait = SCHEDULER_RETRY_S
        delay = SCHEDULER_MAX_SLEEP_S if wait is None else min(max(wait, 0.0), SCHEDULER_MAX_SLEEP_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
