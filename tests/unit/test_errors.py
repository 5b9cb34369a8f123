"""api/errors.py: what a person sees for each kind of bad request, from real pydantic and FastAPI errors
(not hand-made dicts), and the problem+json answers of the handlers, on a small app without a database."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
import pytest
from fastapi import FastAPI, HTTPException, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from dymunim.api.errors import PROBLEM, ProblemError, _field, describe, install, messages, problem, validate
from dymunim.submit.spec import JobSpec


def errors_of(data: Any, model: type[BaseModel] = JobSpec) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    return [describe(dict(e)) for e in err.value.errors()]


class Batch(BaseModel):
    jobs: list[JobSpec]


class Tagged(BaseModel):
    meta: dict[str, int]


def test_a_missing_field_is_named_as_required() -> None:
    assert errors_of({}) == [{"field": "code", "message": "code is required"}]


def test_an_unknown_field_points_at_the_docs() -> None:
    assert errors_of({"code": "x", "worker_id": "w"}) == [
        {"field": "worker_id", "message": "worker_id is not a known field; check its spelling against /docs"}]


def test_other_errors_keep_pydantics_words_after_the_field() -> None:
    [got] = errors_of({"code": "x", "timeout_ms": "soon"})
    assert got["field"] == "timeout_ms"
    assert got["message"].startswith("timeout_ms: Input should be a valid integer")
    [nul] = errors_of({"code": "x", "payload": {"a": "\x00"}})
    assert nul["field"] == "payload" and nul["message"].startswith("payload: ") and "NUL" in nul["message"]


def test_a_nested_field_is_dotted_with_its_index() -> None:
    got = errors_of({"jobs": [{"code": "x"}, {"code": "y", "max_attempts": 0}, {}]}, Batch)
    assert [g["field"] for g in got] == ["jobs.1.max_attempts", "jobs.2.code"]
    assert got[1]["message"] == "jobs.2.code is required"


def test_invalid_json_says_so_with_the_parsers_reason() -> None:
    with pytest.raises(ValidationError) as err:
        JobSpec.model_validate_json('{"code": ')
    [got] = [describe(dict(e)) for e in err.value.errors()]
    assert got["field"] == "body"
    assert got["message"].startswith("the body is not valid JSON (EOF while parsing")
    assert got["message"].endswith("); send a JSON object")
    assert describe({"type": "json_invalid", "loc": ("body", 7)})["message"] == (
        "the body is not valid JSON (parse error); send a JSON object")


def test_a_dict_expected_deeper_than_the_body_is_not_called_the_body() -> None:
    [got] = errors_of({"meta": [1]}, Tagged)
    assert got == {"field": "meta", "message": "meta: Input should be a valid dictionary"}


def test_field_drops_where_the_value_came_from() -> None:
    assert _field(("body", "jobs", 0, "code")) == "jobs.0.code"
    assert _field(("query", "limit")) == "limit"
    assert _field(["header", "idempotency-key"]) == "idempotency-key"
    assert _field(("path", "job_id")) == "job_id"
    assert _field(("body",)) == "body"
    assert _field(()) == "body"


def test_messages_joins_every_error_of_one_item() -> None:
    with pytest.raises(ValidationError) as err:
        JobSpec.model_validate({"timeout_ms": 0, "extra": 1})
    assert messages(err.value) == ("code is required; timeout_ms: Input should be greater than or equal to 1; "
                                   "extra is not a known field; check its spelling against /docs")


# --- the handlers, through a small app ------------------------------------------------------------------

app = FastAPI()
install(app)


@app.post("/jobs")
def post_job(spec: JobSpec) -> dict[str, str]:
    return {"code": spec.code}


@app.post("/raw")
def post_raw(body: dict[str, Any]) -> dict[str, int]:
    return {"n": len(body)}


@app.post("/built")
def post_built(body: dict[str, Any]) -> dict[str, str]:
    return {"code": validate(JobSpec, body["spec"]).code}


@app.get("/list")
def get_list(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, int]:
    return {"limit": limit}


@app.get("/raise/{what}")
def raise_(what: str) -> None:
    if what == "nul":
        raise psycopg.DataError('invalid byte sequence for encoding "UTF8": 0x00\nCONTEXT: unnamed portal')
    if what == "range":
        raise psycopg.DataError("value \"99999999999\" is out of range for type integer")
    if what == "down":
        raise psycopg.OperationalError("server closed the connection unexpectedly\n\tThis probably means")
    if what == "conflict":
        raise ProblemError(409, "Conflict", "key reused", job_id=7, differs=["code"])
    if what == "limited":
        raise HTTPException(429, "slow down", headers={"Retry-After": "3"})
    if what == "teapot":
        raise HTTPException(418, "short and stout")
    raise RuntimeError("secret internals at /srv/app.py line 12")


client = TestClient(app, raise_server_exceptions=False)


def answer(method: str, url: str, status: int, **kw: Any) -> dict[str, Any]:
    r = client.request(method, url, **kw)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["type"] == "about:blank"
    return body


def test_a_body_that_is_not_json_is_a_400() -> None:
    body = answer("POST", "/jobs", 400, content=b'{"code": "x",', headers={"content-type": "application/json"})
    assert body["title"] == "Invalid request"
    assert body["detail"].startswith("the body is not valid JSON (") and body["errors"][0]["field"] == "body"


def test_a_body_that_is_json_but_not_an_object_is_a_422_saying_so() -> None:
    for url in ("/jobs", "/raw"):
        body = answer("POST", url, 422, json=[1, 2])
        assert body["detail"] == "the body must be a JSON object", url
        assert body["errors"] == [{"field": "body", "message": "the body must be a JSON object"}]


def test_every_field_error_is_listed_and_joined_in_the_detail() -> None:
    body = answer("POST", "/jobs", 422, json={"timeout_ms": -1, "colour": "red"})
    assert [e["field"] for e in body["errors"]] == ["code", "timeout_ms", "colour"]
    assert body["detail"] == "; ".join(e["message"] for e in body["errors"])


def test_a_query_parameter_is_named_without_its_location() -> None:
    body = answer("GET", "/list?limit=0", 422)
    assert body["errors"] == [{"field": "limit", "message": "limit: Input should be greater than or equal to 1"}]


def test_a_model_a_route_validates_itself_answers_like_a_body() -> None:
    body = answer("POST", "/built", 422, json={"spec": {"code": "x", "delay_ms": -5}})
    assert body["errors"][0]["field"] == "delay_ms"
    assert client.post("/built", json={"spec": {"code": "x"}}).json() == {"code": "x"}


def test_a_nul_postgres_refuses_is_the_clients_422() -> None:
    assert answer("GET", "/raise/nul", 422)["detail"] == (
        "a text value contains a NUL character (\\u0000), which cannot be stored; remove it")
    detail = answer("GET", "/raise/range", 422)["detail"]
    assert detail == 'a value cannot be stored: value "99999999999" is out of range for type integer'


def test_a_database_that_is_down_is_a_503_to_retry() -> None:
    r = client.get("/raise/down")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "nothing was changed" in r.json()["detail"] and "server closed" not in r.text


def test_an_unexpected_error_is_a_500_without_its_internals() -> None:
    body = answer("GET", "/raise/other", 500)
    assert body["title"] == "Internal error"
    assert "secret" not in str(body) and "/srv" not in str(body)


def test_http_errors_get_titles_and_keep_their_headers() -> None:
    r = client.get("/raise/limited")
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert r.json()["title"] == "Too many requests" and r.json()["detail"] == "slow down"
    assert answer("GET", "/raise/teapot", 418)["title"] == "Error"
    assert answer("GET", "/nowhere", 404)["title"] == "Not found"
    assert answer("DELETE", "/list", 405)["title"] == "Method not allowed"


def test_a_problem_error_carries_its_extra_members() -> None:
    body = answer("GET", "/raise/conflict", 409)
    assert body == {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "key reused", "job_id": 7,
                    "differs": ["code"]}


def test_headers_given_to_problem_are_headers_not_body_members() -> None:
    resp = problem(429, "Too many requests", "wait", headers={"Retry-After": "2"})
    assert resp.headers["retry-after"] == "2"
    assert b"headers" not in resp.body
