from __future__ import annotations

import pytest

from dymunim.db.named import parse
from dymunim.record.policy import RetryPolicy, decide
from dymunim.store.sql import q


def test_named_queries_parse() -> None:
    got = parse("-- name: a\n-- does a\nSELECT 1;\n\n-- name: b\nSELECT 2;\n")
    assert got == {"a": b"-- does a\nSELECT 1;", "b": b"SELECT 2;"}
    assert b"pgmq.q_jobs" in q("claim")
    with pytest.raises(ValueError, match="twice"):
        parse("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")


def test_backoff_grows_with_jitter_and_cap() -> None:
    p = RetryPolicy(base_s=1, cap_s=10)
    for attempt, (lo, hi) in {1: (0.5, 1), 2: (1, 2), 3: (2, 4), 10: (5, 10)}.items():
        for _ in range(50):
            assert lo <= p.backoff_s(attempt) <= hi


def test_decide_retries_infrastructure_not_user_errors() -> None:
    kw = {"attempt": 1, "max_attempts": 3}
    assert decide(ok=True, infrastructure=False, retry_on_error=False, **kw) == "succeeded"
    assert decide(ok=False, infrastructure=False, retry_on_error=False, **kw) == "failed"
    assert decide(ok=False, infrastructure=True, retry_on_error=False, **kw) == "retrying"
    assert decide(ok=False, infrastructure=False, retry_on_error=True, **kw) == "retrying"
    assert decide(ok=False, infrastructure=True, retry_on_error=False, attempt=3, max_attempts=3) == "dead"


def test_infrastructure_failures_get_their_own_budget() -> None:
    kw = {"max_attempts": 3, "retry_on_error": False}
    assert decide(ok=False, infrastructure=True, attempt=3, infra_attempts=10, **kw) == "retrying"
    assert decide(ok=False, infrastructure=True, attempt=10, infra_attempts=10, **kw) == "dead"
    assert decide(ok=False, infrastructure=False, attempt=3, infra_attempts=10, max_attempts=3,
                  retry_on_error=True) == "dead", "user-code failures stay within max_attempts"
