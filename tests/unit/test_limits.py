"""The request guards as plain ASGI apps, without a server: the body size limit (api/limits.py), the
submit rate limiter, trace ids and the security headers every answer gets (api/middleware.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from dymunim.api import middleware
from dymunim.api.limits import BodyLimit
from dymunim.api.middleware import OTHER_CSP, PAGE_CSP, RateLimiter, RequestContext, trace_id_from

Message = dict[str, Any]


class Echo:
    """An app that reads the whole body and answers with its length and content type."""

    def __init__(self, content_type: bytes = b"application/json") -> None:
        self.calls = 0
        self.content_type = content_type

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", self.content_type)]})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


def http(method: str = "POST", path: str = "/api/jobs", headers: list[tuple[bytes, bytes]] | None = None,
         client: tuple[str, int] | None = ("10.0.0.1", 5000)) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "headers": headers or [], "client": client}


async def call(app: Any, scope: dict[str, Any], chunks: list[bytes] | None = None) -> list[Message]:
    chunks = chunks or []
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    incoming = incoming or [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(msg: Message) -> None:
        sent.append(msg)

    await app(scope, receive, send)
    return sent


def status_and_body(sent: list[Message]) -> tuple[int, bytes]:
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


# --- BodyLimit ----------------------------------------------------------------------------------------------

async def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    app = Echo()
    sent = await call(BodyLimit(app, 10), http(headers=[(b"content-length", b"11")]), [b"x" * 11])
    status, body = status_and_body(sent)
    assert status == 413 and app.calls == 0
    problem = json.loads(body)
    assert problem["detail"] == "request body is 11 bytes; the limit is 10 bytes (DYMUNIM_MAX_BODY_BYTES)"
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/problem+json"
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(body)).encode()


async def test_a_body_at_the_limit_passes() -> None:
    app = Echo()
    sent = await call(BodyLimit(app, 10), http(headers=[(b"content-length", b"10")]), [b"x" * 10])
    assert status_and_body(sent) == (200, b"10")


async def test_a_length_that_is_not_a_number_is_left_to_the_server() -> None:
    app = Echo()
    sent = await call(BodyLimit(app, 10), http(headers=[(b"content-length", b"-1")]), [b"abc"])
    assert status_and_body(sent) == (200, b"3")


async def test_a_chunked_body_over_the_limit_is_refused_before_the_app_sees_it() -> None:
    app = Echo()
    sent = await call(BodyLimit(app, 10), http(), [b"12345", b"67890", b"1"])
    status, body = status_and_body(sent)
    assert status == 413 and app.calls == 0
    assert json.loads(body)["detail"] == "request body is over 10 bytes; the limit is 10 bytes (DYMUNIM_MAX_BODY_BYTES)"


async def test_a_chunked_body_within_the_limit_reaches_the_app_whole() -> None:
    app = Echo()
    sent = await call(BodyLimit(app, 10), http(), [b"12345", b"", b"67890"])
    assert status_and_body(sent) == (200, b"10")


async def test_other_scopes_pass_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await BodyLimit(app, 1)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


# --- RateLimiter -----------------------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(middleware.time, "monotonic", c)
    return c


def test_a_burst_is_allowed_then_the_wait_is_until_one_token_refills(clock: Clock) -> None:
    rl = RateLimiter(rate=2, burst=3)
    assert [rl.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rl.take("a") == pytest.approx(0.5)  # 2/s: one token in half a second
    clock.now += 0.25
    assert rl.take("a") == pytest.approx(0.25), "a refused try costs nothing"
    clock.now += 0.25
    assert rl.take("a") == 0.0
    assert rl.take("a") == pytest.approx(0.5)


def test_tokens_refill_only_up_to_the_burst(clock: Clock) -> None:
    rl = RateLimiter(rate=1, burst=2)
    rl.take("a")
    clock.now += 3600
    takes = [rl.take("a") for _ in range(3)]
    assert takes[:2] == [0.0, 0.0] and takes[2] == pytest.approx(1.0)


def test_each_key_has_its_own_bucket(clock: Clock) -> None:
    rl = RateLimiter(rate=1, burst=1)
    assert rl.take("a") == 0.0 and rl.take("a") > 0
    assert rl.take("b") == 0.0


def test_a_burst_below_one_still_lets_one_submit_through(clock: Clock) -> None:
    rl = RateLimiter(rate=0.5, burst=0)
    assert rl.take("a") == 0.0
    assert rl.take("a") == pytest.approx(2.0)


# --- trace ids -------------------------------------------------------------------------------------------------

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_the_w3c_traceparent_wins() -> None:
    assert trace_id_from({"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01", "x-trace-id": "mine"}) == TRACE
    assert trace_id_from({"traceparent": f" 00-{TRACE.upper()}-00F067AA0BA902B7-01 "}) == TRACE


def test_an_invalid_or_all_zero_traceparent_falls_back_to_x_trace_id() -> None:
    assert trace_id_from({"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01", "x-trace-id": "mine"}) == "mine"
    assert trace_id_from({"traceparent": "garbage", "x-trace-id": "  mine  "}) == "mine"
    assert trace_id_from({"x-trace-id": "t" * 500}) == "t" * 200
    assert trace_id_from({"x-trace-id": "   "}) is None
    assert trace_id_from({}) is None


# --- RequestContext: headers on every answer, the 429 ---------------------------------------------------------

def headers_of(sent: list[Message]) -> dict[bytes, bytes]:
    return dict(sent[0]["headers"])


async def test_pages_get_the_page_csp_everything_else_default_src_none() -> None:
    page = headers_of(await call(RequestContext(Echo(b"text/html; charset=utf-8"), None), http("GET", "/")))
    assert page[b"content-security-policy"] == PAGE_CSP.encode()
    assert b"script-src 'self'" in page[b"content-security-policy"]
    data = headers_of(await call(RequestContext(Echo(), None), http("GET", "/api/jobs")))
    assert data[b"content-security-policy"] == OTHER_CSP.encode() == b"default-src 'none'; frame-ancestors 'none'"
    for h in (page, data):
        assert h[b"x-content-type-options"] == b"nosniff" and h[b"x-frame-options"] == b"DENY"
        assert h[b"referrer-policy"] == b"no-referrer" and len(h[b"x-request-id"]) == 16


async def test_a_request_id_given_is_echoed_bounded() -> None:
    sent = await call(RequestContext(Echo(), None), http("GET", "/x", headers=[(b"x-request-id", b"r" * 300)]))
    assert headers_of(sent)[b"x-request-id"] == b"r" * 100


async def test_only_submits_are_rate_limited_per_token(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    app = Echo()
    ctx = RequestContext(app, RateLimiter(rate=0.5, burst=1))
    alice = [(b"authorization", b"Bearer alice")]
    assert (await call(ctx, http(headers=alice)))[0]["status"] == 200
    with caplog.at_level(logging.INFO, logger="dymunim.access"):
        refused = await call(ctx, http(headers=alice))
    status, body = status_and_body(refused)
    assert status == 429 and app.calls == 1
    assert headers_of(refused)[b"retry-after"] == b"2"
    assert json.loads(body)["detail"] == ("submit rate limit of 0.5/s (burst 1) reached; retry in 2 s "
                                          "(DYMUNIM_SUBMIT_RATE_PER_S)")
    assert json.loads(caplog.records[-1].getMessage())["status"] == 429, "the refusal is in the access log"
    # Another token, reads, and paths that do not submit are not limited.
    assert (await call(ctx, http(headers=[(b"authorization", b"Bearer bob")])))[0]["status"] == 200
    assert (await call(ctx, http("GET", "/api/jobs", headers=alice)))[0]["status"] == 200
    assert (await call(ctx, http("POST", "/api/jobs/5/cancel", headers=alice)))[0]["status"] == 200
    for path in ("/api/jobs/batch", "/api/workers/w_1/run"):
        assert (await call(ctx, http("POST", path, headers=alice)))[0]["status"] == 429, path


async def test_without_a_token_the_client_address_is_the_key(clock: Clock) -> None:
    ctx = RequestContext(Echo(), RateLimiter(rate=1, burst=1))
    assert (await call(ctx, http(client=("10.0.0.1", 1))))[0]["status"] == 200
    assert (await call(ctx, http(client=("10.0.0.1", 2))))[0]["status"] == 429, "same address, other port"
    assert (await call(ctx, http(client=("10.0.0.2", 1))))[0]["status"] == 200
    assert (await call(ctx, http(client=None)))[0]["status"] == 200


async def test_a_client_that_disconnects_mid_body_reaches_the_app_with_what_it_sent() -> None:
    got: list[Message] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        got.extend([await receive(), await receive()])

    async def receive() -> Message:
        return incoming.pop(0)

    incoming: list[Message] = [{"type": "http.request", "body": b"12", "more_body": True}, {"type": "http.disconnect"}]
    await BodyLimit(app, 10)(http(), receive, None)  # type: ignore[arg-type]
    assert [m["type"] for m in got] == ["http.request", "http.disconnect"] and got[0]["body"] == b"12"


async def test_request_context_passes_other_scopes_untouched() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await RequestContext(app, RateLimiter(1, 1))({"type": "websocket"}, None, None)  # type: ignore[arg-type]
    assert seen == ["websocket"]
