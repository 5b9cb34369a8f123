"""Serve the built UI (web/ -> src/dymunim/web_dist) with SPA fallback: one server, one port."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

WEB_DIST = Path(__file__).resolve().parents[1] / "web_dist"

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>dymunim</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem">
<h1>dymunim is running</h1><p>The web UI has not been built. Run <code>make up</code> (it builds
<code>web/</code> with npm), or use the API: <a href="/docs">/docs</a>.</p></body>"""


def spa_index(dist: Path = WEB_DIST) -> Response:
    index = dist / "index.html"
    if not index.exists():
        return HTMLResponse(_NOT_BUILT)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


# Pages of the UI whose path is also a machine route (/metrics: Prometheus). A browser asks for
# text/html and gets the page; a scraper gets the route.
SHARED_PATHS = frozenset({"/metrics"})


class SharedPaths:
    """ASGI middleware: GET of a shared path with Accept: text/html answers the UI's index."""

    def __init__(self, app: ASGIApp, dist: Path = WEB_DIST) -> None:
        self.app, self.dist = app, dist

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in SHARED_PATHS:
            request = Request(scope)
            if "text/html" in request.headers.get("accept", ""):
                await spa_index(self.dist)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI, dist: Path = WEB_DIST) -> None:
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> Response:
        if path.startswith("api/") or path == "api":
            raise HTTPException(404, f"no API route /{path}; see /docs")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            # Hashed asset names never change content: cache them for a year.
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        return spa_index(root)
