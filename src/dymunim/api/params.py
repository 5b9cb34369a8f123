"""Query parameters several routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from dymunim.store.models import Job

MAX_WAIT_S = 300

Wait = Annotated[
    float | None,
    Query(ge=0, le=MAX_WAIT_S, description="Seconds to wait for the job to finish (or a workflow run to sleep "
                                           "or wait for an event) before answering"),
]

# A submit answers 201 for a new job, and 200 (Idempotent-Replayed: true) for a repeat of its key.
REPEAT: dict[int | str, dict[str, object]] = {
    200: {"model": Job, "description": "A repeat of an idempotency key: the job it first created"},
}

BIGINT_MAX = 2**63 - 1  # ids are Postgres bigints: a bigger number is a 422, not a database error
