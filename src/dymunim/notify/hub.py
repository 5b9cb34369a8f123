"""Notify: one LISTEN connection per API process fans job events out to waiters and live clients.

Events come from the jobs_state triggers (NOTIFY in the same transaction as the change), so a
subscriber only ever hears about committed states. The last REPLAY_CHUNKS notifications are kept
as they came, so a client that reconnects (Last-Event-ID) gets what it missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
from psycopg import sql

from dymunim.domain import JOB_EVENTS_CHANNEL

log = logging.getLogger(__name__)

REPLAY_CHUNKS = 250  # notifications of up to 80 events each: the last ~20,000 transitions


FIELDS = ("job_id", "status", "from", "attempt", "at")


def events_of(payload: str) -> list[dict[str, Any]] | None:
    """The transitions one NOTIFY carries, as LiveEvent dicts; None if it is unreadable.

    The jobs_state triggers (migration 0007) send columns: `{"first_id": n, "job_id": [...], "status":
    [...], "from": [...], "attempt": [...], "at": [...]}`, event k's id being first_id + k.
    """
    try:
        chunk = json.loads(payload)
        columns = [chunk[f] for f in FIELDS]
        first = int(chunk["first_id"])
        return [{"event_id": first + k, **dict(zip(FIELDS, row, strict=True))}
                for k, row in enumerate(zip(*columns, strict=True))]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


class EventHub:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._subs: set[asyncio.Queue[dict[str, Any]]] = set()
        # Waiters for one job each (?wait=): woken by that job's events only, not by every event.
        self._job_waiters: dict[int, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.connected = asyncio.Event()
        # Raw payloads, parsed only when a client resumes: most of the time nobody does.
        self._recent: deque[str] = deque(maxlen=REPLAY_CHUNKS)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="event-hub")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=10)

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def subscribe(self, maxsize: int = 10_000) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=maxsize)
        self._subs.add(queue)
        try:
            yield queue
        finally:
            self._subs.discard(queue)

    @contextlib.contextmanager
    def watch_job(self, job_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever this job changes (or the hub reconnects and events may be missed)."""
        changed = asyncio.Event()
        self._job_waiters.setdefault(job_id, set()).add(changed)
        try:
            yield changed
        finally:
            waiters = self._job_waiters.get(job_id)
            if waiters is not None:
                waiters.discard(changed)
                if not waiters:
                    del self._job_waiters[job_id]

    def _publish(self, event: dict[str, Any]) -> None:
        if event.get("type") == "resync":
            for waiters in self._job_waiters.values():
                for changed in waiters:
                    changed.set()
        else:
            for changed in self._job_waiters.get(event.get("job_id"), ()):  # type: ignore[arg-type]
                changed.set()
        for queue in list(self._subs):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A slow consumer loses live events, never the API; it re-reads state on reconnect.
                log.warning("dropping a live event for a slow subscriber")

    async def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(JOB_EVENTS_CHANNEL)))
                    self.connected.set()
                    # Tell waiters to re-check: events may have been missed while disconnected.
                    self._publish({"type": "resync"})
                    async for note in conn.notifies():
                        self._recent.append(note.payload)
                        if not self._subs and not self._job_waiters:
                            continue  # nobody listening: do not pay for parsing
                        events = events_of(note.payload)
                        if events is None:
                            log.warning("unreadable notification %r", note.payload[:200])
                            continue
                        for event in events:
                            self._publish(event)
            except (psycopg.OperationalError, OSError) as exc:
                self.connected.clear()
                self._recent.clear()  # events were missed: the window no longer holds everything after its start
                log.warning("event hub lost its connection (%s); reconnecting", exc)
                await asyncio.sleep(1.0)

    def since(self, event_id: int) -> list[dict[str, Any]] | None:
        """The events heard after `event_id`, in the order they came; None if that event is no longer
        (or never was) in the window, so what came after it cannot be told."""
        events = [e for payload in list(self._recent) for e in events_of(payload) or ()]
        for i, e in enumerate(events):
            if e.get("event_id") == event_id:
                return events[i + 1:]
        return None
