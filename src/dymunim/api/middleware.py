"""Per-request plumbing: request id, trace id, JSON access log, submit rate limit."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access = logging.getLogger("dymunim.access")

# Every response: no MIME sniffing, never framed, no Referer leaving the origin.
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]
# Pages (the UI, /docs): scripts, styles and fonts from this origin only. Inline style attributes stay
# allowed (CodeMirror, Recharts and Swagger UI set them); inline scripts do not, so the UI has none.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Anything else (JSON, SVG, text) that a browser might open directly runs nothing.
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
_PAGE_CSP = (b"content-security-policy", PAGE_CSP.encode())
_OTHER_CSP = (b"content-security-policy", OTHER_CSP.encode())

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_SUBMIT_PATHS = re.compile(r"^/api/(jobs(/batch)?|workers/[^/]+/run)$")


def trace_id_from(headers: dict[str, str]) -> str | None:
    """W3C traceparent's trace id, else X-Trace-Id (bounded), else none."""
    m = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if m and m.group(1) != "0" * 32:
        return m.group(1)
    given = headers.get("x-trace-id", "").strip()
    return given[:200] if given else None


@dataclass
class _Bucket:
    tokens: float
    at: float = field(default_factory=time.monotonic)


class RateLimiter:
    """A token bucket per API token (per client address without one); `rate` submits/s, `burst` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """0 if allowed, else seconds until a submit would be."""
        now = time.monotonic()
        b = self.buckets.setdefault(key, _Bucket(self.burst, now))
        b.tokens = min(self.burst, b.tokens + (now - b.at) * self.rate)
        b.at = now
        if b.tokens >= 1:
            b.tokens -= 1
            return 0.0
        return (1 - b.tokens) / self.rate


class RequestContext:
    def __init__(self, app: ASGIApp, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id", "")[:100] or uuid.uuid4().hex[:16]
        trace_id = trace_id_from(headers)
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        scope["state"]["trace_id"] = trace_id
        started = time.perf_counter()
        status = 0

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in message["headers"])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode()), *_ALWAYS,
                                      _PAGE_CSP if html else _OTHER_CSP]
            await send(message)

        try:
            wait = self._limited(scope, headers)
            if wait:
                await self._too_many(send_wrapped, wait)
            else:
                await self.app(scope, receive, send_wrapped)
        finally:
            access.info(json.dumps({
                "request_id": request_id, "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2), "trace_id": trace_id,
            }))

    def _limited(self, scope: Scope, headers: dict[str, str]) -> float:
        if not self.limiter or scope["method"] != "POST" or not _SUBMIT_PATHS.match(scope["path"]):
            return 0.0
        auth = headers.get("authorization", "")
        client = scope.get("client")
        key = hashlib.sha256(auth.encode()).hexdigest() if auth else f"addr:{client[0] if client else '?'}"
        return self.limiter.take(key)

    async def _too_many(self, send: Send, wait: float) -> None:
        assert self.limiter is not None
        retry = max(1, int(wait + 0.999))
        body = json.dumps({
            "type": "about:blank", "title": "Too many requests", "status": 429,
            "detail": f"submit rate limit of {self.limiter.rate:g}/s (burst {self.limiter.burst:g}) reached; "
                      f"retry in {retry} s (DYMUNIM_SUBMIT_RATE_PER_S)",
        }).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/problem+json"), (b"retry-after", str(retry).encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
