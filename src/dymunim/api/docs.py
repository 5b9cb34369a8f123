"""/docs: Swagger UI from this server's own files (web build: swagger/), never from a CDN.

A third-party script on /docs would run on the origin whose localStorage holds the API token. The
page has no inline script, so the Content-Security-Policy (script-src 'self') covers it as well.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from dymunim.api.spa import WEB_DIST

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dymunim API</title>
<link rel="icon" type="image/svg+xml" href="/favicon.svg">
<link rel="stylesheet" href="/swagger/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger/swagger-ui-bundle.js"></script>
<script src="/swagger/init.js"></script>
</body>
</html>
"""

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>dymunim API</title>
<body style="font-family:system-ui;margin:3rem;max-width:40rem">
<h1>API docs</h1><p>Swagger UI's files come with the web build, which has not run: run <code>make</code>
(it builds <code>web/</code> with npm). The OpenAPI document itself is at
<a href="/openapi.json">/openapi.json</a>.</p></body>"""


def install(app: FastAPI, dist: Path = WEB_DIST) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if not (dist / "swagger" / "swagger-ui-bundle.js").exists():
            return HTMLResponse(_NOT_BUILT, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_PAGE, headers={"Cache-Control": "no-cache"})
