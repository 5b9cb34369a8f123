"""submit/jobs.py's checks before anything is written: the code size in bytes, the timeout limit, one
start time, and when a job may first run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dymunim.settings import Settings
from dymunim.submit.jobs import SubmitError, _run_at, check_limits
from dymunim.submit.spec import JobSpec

SETTINGS = Settings(max_code_bytes=10, max_timeout_ms=1000)
NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_code_is_measured_in_utf8_bytes_not_characters() -> None:
    check_limits(JobSpec(code="x" * 10), SETTINGS)
    with pytest.raises(SubmitError) as err:
        check_limits(JobSpec(code="é" * 6), SETTINGS)  # 6 characters, 12 bytes
    assert str(err.value) == "code is 12 bytes; the limit is 10 bytes (DYMUNIM_MAX_CODE_BYTES)"


def test_a_timeout_over_the_limit_is_refused_naming_the_setting() -> None:
    check_limits(JobSpec(code="x", timeout_ms=1000), SETTINGS)
    with pytest.raises(SubmitError, match=r"^timeout_ms 1001 is over the limit of 1000 ms \(DYMUNIM_MAX_TIMEOUT_MS\)$"):
        check_limits(JobSpec(code="x", timeout_ms=1001), SETTINGS)


def test_delay_and_run_at_together_are_refused() -> None:
    check_limits(JobSpec(code="x", delay_ms=0), SETTINGS)
    check_limits(JobSpec(code="x", run_at=NOW), SETTINGS)
    with pytest.raises(SubmitError, match="give delay_ms or run_at, not both"):
        check_limits(JobSpec(code="x", delay_ms=0, run_at=NOW), SETTINGS)


def test_when_a_job_may_first_run() -> None:
    assert _run_at(JobSpec(code="x"), NOW) is None
    assert _run_at(JobSpec(code="x", delay_ms=0), NOW) is None, "no delay: run now"
    assert _run_at(JobSpec(code="x", delay_ms=1500), NOW) == NOW + timedelta(milliseconds=1500)
    past = NOW - timedelta(days=1)
    assert _run_at(JobSpec(code="x", run_at=past), NOW) == past
