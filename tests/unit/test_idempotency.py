"""Idempotency without a database: which request fields make a reused key "another request"
(submit/jobs.py fingerprint/differing), and what the API answers (api/idempotency.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import HTTPException, Response

from dymunim.api.errors import ProblemError
from dymunim.api.idempotency import answer, conflict, use_key
from dymunim.domain import JobId
from dymunim.submit.jobs import FINGERPRINT_FIELDS, Submitted, differing, fingerprint
from dymunim.submit.spec import JobSpec

BASE: dict[str, Any] = {"code": "return payload.n", "payload": {"n": 1}, "idempotency_key": "k"}
# One other value for each field a retry must send unchanged.
CHANGED: dict[str, Any] = {
    "code": "return payload.n + 1",
    "payload": {"n": 2},
    "language": "python",
    "cache_id": "warm",
    "max_attempts": 5,
    "timeout_ms": 1000,
    "retry_on_error": True,
    "delay_ms": 10,
    "run_at": datetime(2030, 1, 1, tzinfo=UTC),
}


def spec(**kw: Any) -> JobSpec:
    return JobSpec.model_validate(BASE | kw)


def test_every_fingerprinted_field_is_covered_here() -> None:
    assert set(CHANGED) | {"worker_id"} == set(FINGERPRINT_FIELDS)


@pytest.mark.parametrize("name", sorted(CHANGED))
def test_changing_one_field_is_reported_as_exactly_that_field(name: str) -> None:
    first = fingerprint(spec())
    other = spec()
    setattr(other, name, CHANGED[name])  # set, not validated: only one language is accepted today
    assert differing(first, fingerprint(other)) == (name,)


def test_a_job_run_through_another_saved_worker_differs_in_worker_id() -> None:
    assert differing(fingerprint(spec(), "w_1"), fingerprint(spec(), "w_2")) == ("worker_id",)


def test_what_does_not_make_another_request() -> None:
    first = fingerprint(spec())
    assert differing(first, fingerprint(spec(trace_id="t-2"))) == (), "a retry under a new trace"
    assert differing(first, fingerprint(spec(idempotency_key="other"))) == (), "the key itself is not compared"
    assert differing(first, fingerprint(spec(payload={"n": 1}, max_attempts=None))) == ()


def test_the_same_json_value_is_the_same_payload_whatever_its_key_order() -> None:
    a = fingerprint(spec(payload={"a": 1, "b": {"x": [1, 2], "y": None}}))
    b = fingerprint(spec(payload={"b": {"y": None, "x": [1, 2]}, "a": 1}))
    assert a == b
    assert fingerprint(spec(payload=[1, 2]))["payload"] != fingerprint(spec(payload=[2, 1]))["payload"]
    assert fingerprint(spec(payload="1"))["payload"] != fingerprint(spec(payload=1))["payload"]
    assert fingerprint(spec(payload=None))["payload"] != fingerprint(spec(payload="null"))["payload"]


def test_digests_are_short_hex_and_never_the_value() -> None:
    got = fingerprint(spec(payload={"secret": "hunter2"}))
    assert set(got) == set(FINGERPRINT_FIELDS)
    assert all(len(v) == 16 and int(v, 16) >= 0 for v in got.values())
    assert "hunter2" not in str(got)


def test_differing_lists_fields_in_a_fixed_order_and_skips_ones_the_first_did_not_store() -> None:
    first = fingerprint(spec())
    now = fingerprint(spec(timeout_ms=5, code="other", payload=[0]))
    assert differing(first, now) == ("code", "payload", "timeout_ms")
    older = {k: v for k, v in first.items() if k != "timeout_ms"}  # stored before timeout_ms was compared
    assert differing(older, now) == ("code", "payload")
    assert differing({}, now) == () and differing(None, now) == ()


# --- api/idempotency.py ------------------------------------------------------------------------------------

def test_the_header_key_becomes_the_jobs_key() -> None:
    s = JobSpec(code="x")
    use_key(s, "hdr")
    assert s.idempotency_key == "hdr"


def test_no_header_leaves_the_body_key_alone() -> None:
    s = JobSpec(code="x", idempotency_key="body")
    use_key(s, None)
    assert s.idempotency_key == "body"
    bare = JobSpec(code="x")
    use_key(bare, None)
    assert bare.idempotency_key is None


def test_the_same_key_in_header_and_body_is_fine() -> None:
    s = JobSpec(code="x", idempotency_key="same")
    use_key(s, "same")
    assert s.idempotency_key == "same"


def test_two_different_keys_are_refused_never_guessed() -> None:
    s = JobSpec(code="x", idempotency_key="body-key")
    with pytest.raises(HTTPException) as err:
        use_key(s, "header-key")
    assert err.value.status_code == 422
    assert "'header-key'" in err.value.detail and "'body-key'" in err.value.detail
    assert s.idempotency_key == "body-key"


def test_conflict_names_the_job_the_key_and_the_fields_in_good_grammar() -> None:
    one = conflict(Submitted(JobId(41), created=False, differs=("payload",)), "k-1")
    assert one.startswith("idempotency key 'k-1' was first used for job 41 with a different request "
                          "(payload differs). ")
    assert "get job 41 again" in one
    two = conflict(Submitted(JobId(41), created=False, differs=("code", "payload")), "k-1")
    assert "(code, payload differ)" in two


def test_answer_201_200_replayed_or_409() -> None:
    created = Response(status_code=201)
    answer(Submitted(JobId(1), created=True), JobSpec(code="x"), created)
    assert created.status_code == 201 and "idempotent-replayed" not in created.headers

    replay = Response(status_code=201)
    answer(Submitted(JobId(1), created=False), JobSpec(code="x", idempotency_key="k"), replay)
    assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"

    with pytest.raises(ProblemError) as err:
        answer(Submitted(JobId(9), created=False, differs=("timeout_ms",)), JobSpec(code="x", idempotency_key="k"),
               Response(status_code=201))
    assert err.value.status == 409 and err.value.extra == {"job_id": 9, "differs": ["timeout_ms"]}
    assert "'k'" in err.value.detail and "timeout_ms differs" in err.value.detail
