"""Pure pieces of submit and list: request fingerprints, storable payloads, literal search text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dymunim.domain import unstorable
from dymunim.store.jobs import like_literal
from dymunim.submit.jobs import differing, fingerprint
from dymunim.submit.spec import JobSpec


def test_fingerprint_names_only_the_fields_that_differ() -> None:
    base = JobSpec(code="return 1", payload={"a": 1, "b": [1, 2]}, idempotency_key="k")
    same = JobSpec(code="return 1", payload={"b": [1, 2], "a": 1}, idempotency_key="k", trace_id="other trace")
    assert differing(fingerprint(base), fingerprint(same)) == (), "key order and trace id are not the request"
    other = JobSpec(code="return 2", payload={"a": 2, "b": [1, 2]}, idempotency_key="k", timeout_ms=5)
    assert differing(fingerprint(base), fingerprint(other)) == ("code", "payload", "timeout_ms")
    assert differing(None, fingerprint(other)) == (), "a job stored before fingerprints matches anything"
    huge = JobSpec(code="return 1", payload=2**80)
    assert fingerprint(huge)["payload"] != fingerprint(base)["payload"]


def test_fingerprint_compares_instants_not_their_offsets() -> None:
    at = datetime(2030, 1, 1, 12, tzinfo=UTC)
    east = at.astimezone(timezone(timedelta(hours=2)))
    assert fingerprint(JobSpec(code="x", run_at=at)) == fingerprint(JobSpec(code="x", run_at=east))


def test_unstorable_says_why() -> None:
    assert unstorable({"a": ["fine", 1.5, None, {"ü": "é"}], "big": 2**70}) is None
    assert "NUL" in (unstorable({"a": "x\x00"}) or "")
    assert "NUL" in (unstorable({"k\x00": 1}) or "")
    assert "surrogate" in (unstorable(["\ud800"]) or "")
    assert "surrogate" in (unstorable({"\udfff": 1}) or "")
    assert "NaN" in (unstorable([float("nan")]) or "")
    assert "Infinity" in (unstorable({"n": float("-inf")}) or "")


def test_like_literal_escapes_wildcards_and_backslashes() -> None:
    assert like_literal("100%") == "100\\%"
    assert like_literal("a_b") == "a\\_b"
    assert like_literal("c\\d") == "c\\\\d"
    assert like_literal("plain") == "plain"
