"""Every error leaves as application/problem+json with a message a person can act on; no stack traces."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dymunim.store.schedules import ScheduleNameTaken
from dymunim.store.workers import NameTaken
from dymunim.submit.jobs import KeysContended, SubmitError, TooLarge
from dymunim.trigger.cron import CronError
from dymunim.trigger.events import EventKeyReused

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

M = TypeVar("M", bound=BaseModel)


class FieldError(BaseModel):
    field: str = Field(description="The field, dotted (e.g. jobs.3.timeout_ms), or `body`")
    message: str


class Problem(BaseModel):
    """Every error answer (RFC 9457 problem details, application/problem+json)."""

    type: str = "about:blank"
    title: str = Field(description="The kind of error, e.g. Invalid request, Not found")
    status: int
    detail: str = Field(description="What was wrong and how to fix it")
    errors: list[FieldError] | None = Field(default=None, description="Invalid requests: one entry per field")
    job_id: int | None = Field(default=None, description="A reused idempotency key: the job it belongs to")
    differs: list[str] | None = Field(default=None, description="A reused idempotency key: the fields that differ")
    event_id: int | None = Field(default=None, description="A reused event idempotency key: the event it belongs to")


# Declared on every route, so the OpenAPI document (and the client generated from it) knows the error shape.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {"model": Problem, "description": "An error (application/problem+json)"},
}


class ProblemError(Exception):
    """A problem answer with extra members beside `detail` (e.g. the fields that differ)."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)  # response headers, not members of the body
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def describe(err: dict[str, Any]) -> dict[str, str]:
    field = _field(err.get("loc", ()))
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    if kind == "json_invalid":
        msg = f"the body is not valid JSON ({err.get('ctx', {}).get('error', 'parse error')}); send a JSON object"
        field = "body"
    elif kind == "missing":
        msg = f"{field} is required"
    elif kind == "extra_forbidden":
        msg = f"{field} is not a known field; check its spelling against /docs"
    elif kind == "model_attributes_type" or (kind == "dict_type" and field == "body"):
        msg = "the body must be a JSON object"
    else:
        msg = f"{field}: {msg}"
    return {"field": field, "message": msg}


def validate(model: type[M], data: Any) -> M:
    """Validate a model a route builds itself exactly as FastAPI validates a request body.

    A pydantic ValidationError escaping a route is a 500; through here it is the same 422 problem
    the body of POST /api/jobs gets.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def messages(exc: ValidationError) -> str:
    """The 422 problem's detail for one invalid item (batch items are reported, not raised)."""
    return "; ".join(describe(dict(e))["message"] for e in exc.errors())


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [describe(dict(e)) for e in exc.errors()]
        status = 400 if any(e["message"].startswith("the body is not valid JSON") for e in errors) else 422
        detail = "; ".join(e["message"] for e in errors)
        return problem(status, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {
            401: "Unauthorized",
            404: "Not found",
            405: "Method not allowed",
            409: "Conflict",
            413: "Payload too large",
            422: "Invalid request",
            429: "Too many requests",
        }
        resp = problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(SubmitError)
    async def _refused(_: Request, exc: SubmitError) -> JSONResponse:
        if isinstance(exc, TooLarge):
            return problem(413, "Payload too large", str(exc))
        if isinstance(exc, KeysContended):
            return problem(409, "Conflict", str(exc))
        if isinstance(exc, EventKeyReused):
            return problem(409, "Conflict", str(exc), event_id=exc.event_id)
        return problem(422, "Invalid request", str(exc))

    @app.exception_handler(CronError)
    async def _bad_cron(_: Request, exc: CronError) -> JSONResponse:
        return problem(422, "Invalid request", str(exc))

    @app.exception_handler(ScheduleNameTaken)
    async def _schedule_name_taken(_: Request, exc: ScheduleNameTaken) -> JSONResponse:
        return problem(409, "Conflict", f"a schedule named {exc.args[0]!r} exists already; choose another name")

    @app.exception_handler(NameTaken)
    async def _name_taken(_: Request, exc: NameTaken) -> JSONResponse:
        return problem(409, "Conflict", f"a worker named {exc.args[0]!r} exists already; choose another name")

    @app.exception_handler(psycopg.DataError)
    async def _bad_data(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # Values Postgres cannot store or compare (a NUL character, a number out of range): the
        # client's input, so a 422 that says what to change; nothing was written.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "NUL" in first or "0x00" in first or "\\u0000" in first:
            detail = "a text value contains a NUL character (\\u0000), which cannot be stored; remove it"
        else:
            detail = f"a value cannot be stored: {first}"
        return problem(422, "Invalid request", detail)

    @app.exception_handler(psycopg.OperationalError)
    async def _database_down(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        # The database restarted or is unreachable: nothing was committed; the client may retry.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0])
        resp = problem(503, "Database unavailable", "the database is not answering right now; nothing was changed. "
                       "Retry in a moment.")
        resp.headers["Retry-After"] = "1"
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "Internal error", "the server failed on this request; it has been logged")
