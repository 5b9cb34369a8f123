"""What happens after an attempt: done, run again later, or give up. Pure functions, no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from dymunim.domain import JobStatus

Decision = Literal[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.RETRYING, JobStatus.DEAD]


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float
    cap_s: float
    # Infrastructure failures (executor down, killed process) are not the job's fault: they may retry
    # up to this many attempts even when the job's own max_attempts is lower, so an executor restart
    # does not dead-letter every job that was in flight.
    infra_attempts: int = 10

    def backoff_s(self, attempt: int) -> float:
        """Exponential backoff with jitter: base·2^(attempt-1), capped, then scaled by 0.5–1.0.

        Jitter keeps a burst of jobs that failed together (executor restart) from all coming
        back in the same instant. Half of the delay is kept so a retry is never immediate.
        """
        raw = min(self.cap_s, self.base_s * (2 ** max(0, attempt - 1)))
        return float(raw * (0.5 + random.random() / 2))

    def next_run(self, attempt: int, now: datetime | None = None) -> datetime:
        return (now or datetime.now(UTC)) + timedelta(seconds=self.backoff_s(attempt))


def decide(
    *, ok: bool, infrastructure: bool, attempt: int, max_attempts: int, retry_on_error: bool, infra_attempts: int = 0
) -> Decision:
    """Infrastructure failures always retry (within max(max_attempts, infra_attempts)); user-code
    failures only if the job asked to (within max_attempts)."""
    if ok:
        return JobStatus.SUCCEEDED
    retryable = infrastructure or retry_on_error
    if not retryable:
        return JobStatus.FAILED
    limit = max(max_attempts, infra_attempts) if infrastructure else max_attempts
    return JobStatus.RETRYING if attempt < limit else JobStatus.DEAD
