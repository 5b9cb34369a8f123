"""What a workflow call replays: the run's stored steps, as the dispatcher hands them to the executor.

A sleep that has ended is completed and a wait past its timeout has timed out, by the database's clock
when the call starts; the recorder settles them for good in the transaction that records the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dymunim.execute.contract_types import StoredStep

Settled = tuple[tuple[str, str], ...]  # (step name, status) the call was told


def state(rows: Iterable[Mapping[str, Any]]) -> tuple[list[StoredStep], Settled]:
    """The steps one run's call replays (rows of `workflow_steps` for one job, in order), and the sleeps
    and waits that settled since the last call."""
    steps: list[StoredStep] = []
    settled: list[tuple[str, str]] = []
    for r in rows:
        status = r["status"]
        if r["due"] and status == "sleeping":
            status = "completed"
        elif r["due"] and status == "waiting":
            status = "timed_out"
        if status != r["status"]:
            settled.append((r["name"], status))
        steps.append({"name": r["name"], "kind": r["kind"], "status": status, "result": r["result"],
                      "error": r["error"], "attempts": r["attempts"],
                      "until_ms": float(r["until_ms"]) if r["until_ms"] is not None else None,
                      "event_type": r["event_type"]})
    return steps, tuple(settled)
