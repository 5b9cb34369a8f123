"""Query parameters several routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_WAIT_S = 300

Wait = Annotated[
    float | None,
    Query(ge=0, le=MAX_WAIT_S, description="Seconds to wait for a terminal state before answering"),
]
