"""Shared state of the API process and the dependencies routes ask for."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dymunim.db.pool import DictPool
from dymunim.execute.client import ExecutorClient
from dymunim.notify.hub import EventHub
from dymunim.settings import Settings


@dataclass
class AppState:
    settings: Settings
    dsn: str
    pool: DictPool
    hub: EventHub
    executor: ExecutorClient


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.dymunim
    return state


State = Annotated[AppState, Depends(get_state)]


# Declares the bearer scheme in the OpenAPI document (Swagger UI's Authorize button, typed clients);
# auto_error=False: require_token below does the check and words the errors.
_bearer = HTTPBearer(auto_error=False, description="DYMUNIM_API_TOKEN (when set); /api/events also takes ?token=")


async def require_token(
    request: Request, state: State,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With DYMUNIM_API_TOKEN set, every /api route needs it as a bearer token (constant-time compare)."""
    expected = state.settings.api_token
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not header and request.url.path == "/api/events":
        # EventSource cannot send headers: the live stream alone also takes ?token=.
        scheme, given = "bearer", request.query_params.get("token", "")
    if scheme.lower() != "bearer" or not given:
        raise HTTPException(
            401,
            "missing bearer token: send 'Authorization: Bearer <DYMUNIM_API_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(
            401, "wrong bearer token: it does not match DYMUNIM_API_TOKEN", headers={"WWW-Authenticate": "Bearer"}
        )
