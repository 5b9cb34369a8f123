"""record/policy.py: the retry delay (exponential, capped, jittered to 50-100%) and the decision after
an attempt, with the jitter pinned so each bound is checked exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dymunim.record import policy
from dymunim.record.policy import RetryPolicy, decide


@pytest.fixture
def jitter(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The next values random.random() returns, in order."""
    values: list[float] = []
    monkeypatch.setattr(policy.random, "random", lambda: values.pop(0))
    return values


def test_backoff_doubles_from_base_and_is_capped(jitter: list[float]) -> None:
    p = RetryPolicy(base_s=2, cap_s=60)
    jitter.extend([1.0] * 8)  # the top of the jitter: the whole delay
    assert [p.backoff_s(a) for a in (1, 2, 3, 4, 5, 6, 7, 30)] == [2, 4, 8, 16, 32, 60, 60, 60]


def test_jitter_keeps_between_half_and_all_of_the_delay(jitter: list[float]) -> None:
    p = RetryPolicy(base_s=2, cap_s=60)
    jitter.extend([0.0, 0.5, 0.999999])
    assert p.backoff_s(3) == 4.0, "never less than half: a retry is never immediate"
    assert p.backoff_s(3) == 6.0
    assert p.backoff_s(3) == pytest.approx(8.0, abs=1e-5)


def test_attempt_zero_or_below_waits_the_base(jitter: list[float]) -> None:
    jitter.extend([1.0, 1.0])
    p = RetryPolicy(base_s=3, cap_s=60)
    assert p.backoff_s(0) == 3.0 and p.backoff_s(-5) == 3.0


def test_next_run_is_now_plus_the_backoff(jitter: list[float]) -> None:
    jitter.append(0.0)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert RetryPolicy(base_s=10, cap_s=60).next_run(2, now) == now + timedelta(seconds=10)
    jitter.append(1.0)
    before = datetime.now(UTC)
    got = RetryPolicy(base_s=10, cap_s=60).next_run(1)
    assert got.tzinfo is not None and before + timedelta(seconds=10) <= got <= datetime.now(UTC) + timedelta(seconds=10)


def test_the_default_jitter_stays_in_bounds() -> None:
    p = RetryPolicy(base_s=1, cap_s=100)
    delays = [p.backoff_s(4) for _ in range(500)]
    assert all(4 <= d <= 8 for d in delays) and len(set(delays)) > 400, "spread, not one value"


@pytest.mark.parametrize(("ok", "infra", "retry_on_error", "attempt", "max_attempts", "infra_attempts", "want"), [
    (True, False, False, 9, 1, 0, "succeeded"),        # success wins whatever the count
    (True, True, False, 1, 3, 10, "succeeded"),
    (False, False, False, 1, 3, 10, "failed"),         # the job's own error, not asked to retry
    (False, False, True, 1, 3, 10, "retrying"),
    (False, False, True, 2, 3, 10, "retrying"),
    (False, False, True, 3, 3, 10, "dead"),            # the infra budget is not the job's
    (False, True, False, 1, 1, 0, "dead"),             # no infra budget: max_attempts
    (False, True, False, 1, 1, 10, "retrying"),        # infra failures retry even with max_attempts 1
    (False, True, False, 9, 1, 10, "retrying"),
    (False, True, False, 10, 1, 10, "dead"),
    (False, True, False, 5, 8, 3, "retrying"),         # the larger of the two budgets
    (False, True, True, 8, 8, 3, "dead"),
])
def test_decide(ok: bool, infra: bool, retry_on_error: bool, attempt: int, max_attempts: int, infra_attempts: int,
                want: str) -> None:
    assert decide(ok=ok, infrastructure=infra, attempt=attempt, max_attempts=max_attempts,
                  retry_on_error=retry_on_error, infra_attempts=infra_attempts) == want
