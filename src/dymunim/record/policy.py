"""What happens after an attempt: done, run again later, or give up. Pure functions, no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

Decision = Literal["succeeded", "failed", "retrying", "dead"]


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float
    cap_s: float

    def backoff_s(self, attempt: int) -> float:
        """Exponential backoff with jitter: base·2^(attempt-1), capped, then scaled by 0.5–1.0.

        Jitter keeps a burst of jobs that failed together (executor restart) from all coming
        back in the same instant. Half of the delay is kept so a retry is never immediate.
        """
        raw = min(self.cap_s, self.base_s * (2 ** max(0, attempt - 1)))
        return float(raw * (0.5 + random.random() / 2))

    def next_run(self, attempt: int, now: datetime | None = None) -> datetime:
        return (now or datetime.now(UTC)) + timedelta(seconds=self.backoff_s(attempt))


def decide(*, ok: bool, infrastructure: bool, attempt: int, max_attempts: int, retry_on_error: bool) -> Decision:
    """Infrastructure failures always retry; user-code failures only if the job asked to."""
    if ok:
        return "succeeded"
    retryable = infrastructure or retry_on_error
    if not retryable:
        return "failed"
    return "retrying" if attempt < max_attempts else "dead"
