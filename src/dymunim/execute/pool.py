"""A supervised pool of workerd processes: route calls, watch deadlines and memory, replace the dead.

Locally workerd enforces no CPU or memory limit, so one `while(true){}` freezes its whole process.
The pool notices (a call past its deadline on a process that no longer answers /health, or RSS over
the limit), SIGKILLs the process, fails its in-flight calls with `ProcessKilled`, and starts a
replacement while the other processes keep serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp

from dymunim.execute.workerd import LineSink, WorkerdProcess

log = logging.getLogger(__name__)

KillReason = Literal["deadline", "memory", "crashed", "recycle"]
GRACE_S = 0.75  # a frozen process gets this long past a deadline to answer /health


class WorkerRefused(Exception):
    """The Worker answered non-200 (a bad request): a contract error, not a dead process."""


class ProcessKilled(Exception):
    def __init__(self, reason: KillReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(slots=True)
class Call:
    deadline: float  # monotonic time by which the job's own timeout has passed
    future: asyncio.Future[Any]  # gets ProcessKilled when the process is killed or dies
    task: asyncio.Task[Any] | None  # the task awaiting the HTTP answer, cancelled on a kill
    sending: bool = False


@dataclass
class Slot:
    index: int
    proc: WorkerdProcess
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    calls: dict[int, Call] = field(default_factory=dict)
    restarts: int = 0
    isolates: set[str] = field(default_factory=set)
    killed: KillReason | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "pid": self.proc.pid,
            "port": self.proc.port,
            "ready": self.ready.is_set(),
            "in_flight": len(self.calls),
            "restarts": self.restarts,
            "rss_mb": round(self.proc.rss_bytes() / 2**20, 1),
            "warm_isolates": len(self.isolates),
        }


class Pool:
    def __init__(self, worker_dir: Path, token: str, size: int, *, max_rss_mb: int, max_isolates: int) -> None:
        self.worker_dir = worker_dir
        self.token = token
        self.size = size
        self.max_rss = max_rss_mb * 2**20
        self.max_isolates = max_isolates
        self.slots: list[Slot] = []
        self.quarantine: Slot | None = None
        self.quarantine_lock = asyncio.Lock()
        self._ids = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self.http: aiohttp.ClientSession | None = None
        self.calls = 0  # calls this supervisor served (a dispatcher calling workerd directly makes none)

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30),
            headers={"Authorization": f"Bearer {self.token}"},
        )
        self.slots = [Slot(i, WorkerdProcess(self.worker_dir, self.token, i)) for i in range(self.size)]
        await asyncio.gather(*(self._boot(s) for s in self.slots))
        self._spawn(self._watchdog())

    async def stop(self) -> None:
        self._stop.set()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for s in [*self.slots, *([self.quarantine] if self.quarantine else [])]:
            s.proc.close()
            await s.proc.wait_dead()
        if self.http:
            await self.http.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _boot(self, slot: Slot) -> None:
        slot.ready.clear()
        slot.killed = None
        slot.isolates.clear()
        await slot.proc.start()
        assert self.http is not None
        for _ in range(200):
            try:
                async with self.http.get(slot.proc.url + "/health", timeout=aiohttp.ClientTimeout(total=1)) as r:
                    if r.status == 200:
                        slot.ready.set()
                        self._spawn(self._reap(slot, slot.proc.proc))
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if slot.proc.proc and slot.proc.proc.returncode is not None:
                break
            await asyncio.sleep(0.02)
        code = slot.proc.proc and slot.proc.proc.returncode
        raise RuntimeError(f"workerd {slot.index} did not start (exit code {code})")

    async def _reap(self, slot: Slot, proc: asyncio.subprocess.Process | None) -> None:
        """A process that exits by itself (crash, OOM abort, outside SIGKILL) is replaced too."""
        if proc is None:
            return
        await proc.wait()
        if self._stop.is_set() or slot.proc.proc is not proc:
            return
        await self._replace(slot, slot.killed or "crashed", f"workerd exited with code {proc.returncode}")

    def kill(self, slot: Slot, reason: KillReason, detail: str) -> None:
        if slot.killed:
            return
        slot.killed = reason
        slot.ready.clear()
        log.warning("killing workerd %d (pid %s): %s", slot.index, slot.proc.pid, detail)
        slot.proc.kill()

    async def _replace(self, slot: Slot, reason: KillReason, detail: str) -> None:
        slot.ready.clear()
        for call in slot.calls.values():
            if not call.future.done():
                call.future.set_exception(ProcessKilled(reason, detail))
                if call.sending and call.task is not None:
                    call.task.cancel()  # post() turns this into the ProcessKilled above
        slot.calls.clear()
        slot.restarts += 1
        slot.proc.close()
        slot.proc = WorkerdProcess(self.worker_dir, self.token, slot.index)
        for delay in (0, 0.2, 0.5, 1, 2, 5):
            await asyncio.sleep(delay)
            try:
                await self._boot(slot)
                return
            except (RuntimeError, OSError) as exc:
                log.error("restarting workerd %d failed: %s", slot.index, exc)

    async def _watchdog(self) -> None:
        """Every 100 ms: memory over the limit, or a call past its deadline on a frozen process."""
        while not self._stop.is_set():
            await asyncio.sleep(0.1)
            now = time.monotonic()
            for slot in [*self.slots, *([self.quarantine] if self.quarantine else [])]:
                if not slot.ready.is_set() or slot.killed:
                    continue
                rss = slot.proc.rss_bytes()
                if rss > self.max_rss:
                    self.kill(slot, "memory", f"RSS {rss // 2**20} MiB over the limit of {self.max_rss // 2**20} MiB")
                    continue
                if slot.calls and min(c.deadline for c in slot.calls.values()) + GRACE_S < now:
                    if not await self.answers(slot):
                        self.kill(slot, "deadline", "a call passed its deadline and /health does not answer")

    async def answers(self, slot: Slot) -> bool:
        assert self.http is not None
        try:
            async with self.http.get(slot.proc.url + "/health", timeout=aiohttp.ClientTimeout(total=GRACE_S)) as r:
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def pick(self, cache_id: str | None, avoid: set[int] | None = None, load: dict[int, int] | None = None) -> Slot:
        """Same cache id -> same process while it is healthy, so warm isolates stay warm; otherwise the
        least busy process (`load`: jobs already placed there by the caller, not yet sent)."""
        ready = [s for s in self.slots if s.ready.is_set() and not (avoid and s.index in avoid)]
        if not ready:
            ready = [s for s in self.slots if s.ready.is_set()] or self.slots
        if cache_id:
            home = self.slots[zlib.crc32(cache_id.encode()) % len(self.slots)]
            if home in ready:
                return home
        return min(ready, key=lambda s: len(s.calls) + (load.get(s.index, 0) if load else 0))

    async def ensure_quarantine(self) -> Slot:
        if self.quarantine is None:
            self.quarantine = Slot(-1, WorkerdProcess(self.worker_dir, self.token, -1))
            await self._boot(self.quarantine)
        elif not self.quarantine.ready.is_set():
            await asyncio.wait_for(self.quarantine.ready.wait(), timeout=10)
        return self.quarantine

    async def post(self, slot: Slot, path: str, body: bytes, timeout_ms: int, lines: LineSink | None = None) -> bytes:
        """POST JSON bytes to one process and return its 200 answer's bytes untouched
        (or, with `lines`, hand its NDJSON answer over line by line as it arrives).

        Raises ProcessKilled if the process dies or is killed meanwhile. No extra task per call:
        a kill cancels the calling task while it waits for the answer, and that becomes ProcessKilled.
        """
        assert self.http is not None
        if not slot.ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(slot.ready.wait(), timeout=5)
            if not slot.ready.is_set():
                raise ProcessKilled("crashed", f"workerd {slot.index} is not ready")
        call_id = next(self._ids)
        task = asyncio.current_task()
        call = Call(time.monotonic() + timeout_ms / 1000, asyncio.get_running_loop().create_future(), task)
        slot.calls[call_id] = call
        try:
            call.sending = True
            try:
                return await self._send(slot, path, body, lines)
            except asyncio.CancelledError:
                call.sending = False
                if call.future.done() and not call.future.cancelled() and task is not None and task.uncancel() == 0:
                    call.future.result()  # raises ProcessKilled
                raise
            except (aiohttp.ClientError, ConnectionError) as exc:
                call.sending = False
                # The connection broke: the process died under us. Wait for the reaper's verdict.
                if slot.proc.proc and slot.proc.proc.returncode is None and not slot.killed:
                    raise ProcessKilled("crashed", f"connection to workerd {slot.index} failed: {exc!r}") from exc
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(call.future), timeout=2)
                raise ProcessKilled(slot.killed or "crashed", f"workerd {slot.index} died: {exc!r}") from exc
        finally:
            call.sending = False
            slot.calls.pop(call_id, None)
            if not call.future.done():
                call.future.cancel()
            elif not call.future.cancelled():
                call.future.exception()  # retrieved: no "exception was never retrieved" warning

    async def _send(self, slot: Slot, path: str, body: bytes, lines: LineSink | None) -> bytes:
        status, answer = await slot.proc.post(path, body, lines)
        if status != 200:
            raise WorkerRefused(f"workerd answered {status}: {answer[:300].decode(errors='replace')}")
        return answer

    def note_isolate(self, slot: Slot, key: str) -> None:
        """Cached isolates are never evicted locally: recycle a process that holds too many."""
        slot.isolates.add(key)
        if len(slot.isolates) > self.max_isolates and not slot.calls:
            self.kill(slot, "recycle", f"{len(slot.isolates)} warm isolates over {self.max_isolates}")

    def snapshot(self) -> list[dict[str, Any]]:
        out = [s.snapshot() for s in self.slots]
        if self.quarantine:
            out.append(self.quarantine.snapshot() | {"quarantine": True})
        return out
