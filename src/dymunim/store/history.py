"""A job's history: the transitions and attempts stored for it, and those its own row tells.

The common path stores nothing but the row (migration 0007): `queued` is created_at, the claim out of
`queued` is the attempt's started_at, a final succeeded/failed is finished_at, and the attempt that
ended the job is the row's own result, error and timings. Only what the row cannot tell is stored
(retries, lost attempts, dead, cancelled, manual retries). Jobs recorded before 0007 stored every
transition; nothing is derived twice, because a transition is derived only where none is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dymunim.domain import AttemptOutcome, JobStatus
from dymunim.store.models import JobAttempt, JobEvent

_ENDED = (JobStatus.SUCCEEDED, JobStatus.FAILED)
# Transitions that share a timestamp (one transaction) keep the order of a job's life.
_ORDER = {JobStatus.QUEUED: 0, JobStatus.RUNNING: 1}


def events(row: Mapping[str, Any], stored: Sequence[JobEvent], tried: Sequence[JobAttempt]) -> list[JobEvent]:
    """Every transition of the job, oldest first."""
    have = {(e.to_status, e.attempt) for e in stored}
    derived: list[JobEvent] = []
    if not any(e.to_status == JobStatus.QUEUED and e.from_status is None for e in stored):
        derived.append(JobEvent(event_id=None, from_status=None, to_status=JobStatus.QUEUED, attempt=0,
                                at=row["created_at"]))
    started = {a.attempt: a.started_at for a in tried}
    if row["started_at"] is not None:
        started[row["attempts"]] = row["started_at"]
    for attempt, at in sorted(started.items()):
        if at is not None and (JobStatus.RUNNING, attempt) not in have:
            derived.append(JobEvent(event_id=None, from_status=JobStatus.QUEUED, to_status=JobStatus.RUNNING,
                                    attempt=attempt, at=at))
    status = JobStatus(row["status"])
    if status in _ENDED and row["finished_at"] is not None and (status, row["attempts"]) not in have:
        derived.append(JobEvent(event_id=None, from_status=JobStatus.RUNNING, to_status=status,
                                attempt=row["attempts"], at=row["finished_at"]))
    return sorted([*stored, *derived], key=lambda e: (e.at, e.attempt, _ORDER.get(e.to_status, 2)))


def attempts(row: Mapping[str, Any], stored: Sequence[JobAttempt]) -> list[JobAttempt]:
    """Every attempt that ended (or was lost), oldest first."""
    status = JobStatus(row["status"])
    if status not in _ENDED or row["finished_at"] is None or any(a.attempt == row["attempts"] for a in stored):
        return list(stored)
    outcome: AttemptOutcome = "succeeded" if status == JobStatus.SUCCEEDED else "failed"
    last = JobAttempt(attempt=row["attempts"], outcome=outcome, started_at=row["started_at"],
                      finished_at=row["finished_at"], duration_ms=row["duration_ms"],
                      cold_start=row["cold_start"], error=row["error"])
    return [*stored, last]
