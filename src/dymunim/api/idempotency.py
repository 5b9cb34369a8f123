"""The `Idempotency-Key` request header, and what a key reused for a different request answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, HTTPException, Response

from dymunim.api.errors import ProblemError
from dymunim.submit.jobs import Submitted
from dymunim.submit.spec import JobSpec

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Same as the body's idempotency_key: a retry with the same key and the same body returns "
        "the first job and creates nothing; the same key with a different body is a 409",
    ),
]


def use_key(spec: JobSpec, header: str | None) -> None:
    """The header's key becomes the job's; naming two different keys is refused, never guessed."""
    if header is None:
        return
    if spec.idempotency_key is not None and spec.idempotency_key != header:
        raise HTTPException(
            422,
            f"the Idempotency-Key header ({header!r}) and the body's idempotency_key ({spec.idempotency_key!r}) "
            "differ; send the key once, in either place",
        )
    spec.idempotency_key = header


def conflict(sub: Submitted, key: str | None) -> str:
    """What a request whose key belongs to another request is told."""
    verb = "differs" if len(sub.differs) == 1 else "differ"
    return (f"idempotency key {key!r} was first used for job {sub.job_id} with a different request "
            f"({', '.join(sub.differs)} {verb}). Send that request unchanged to get job {sub.job_id} again, "
            "or use a new key for a new job")


def answer(sub: Submitted, spec: JobSpec, response: Response) -> None:
    """201 for a new job; 200 and `Idempotent-Replayed` for a repeat; 409 for a key of another request."""
    if sub.differs:
        raise ProblemError(
            409,
            "Conflict",
            conflict(sub, spec.idempotency_key),
            job_id=sub.job_id,
            differs=list(sub.differs),
        )
    if not sub.created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
