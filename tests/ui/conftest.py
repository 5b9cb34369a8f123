"""The browser side: the built web UI in Debian's chromium (never a downloaded browser), driven by Playwright.

The UI is built into `src/dymunim/web_dist/` (`cd web && npm ci && npm run build`); when it is missing
the `web_dist` fixture builds it once. When the server does not serve it yet (no SPA fallback for
non-API paths), the page fixture serves those files itself through request interception, so the
tests exercise the same bundle against the real API either way.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TOKEN, Stack

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = ROOT / "src" / "dymunim" / "web_dist"
CHROMIUM = os.environ.get("DYMUNIM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(os.environ.get("DYMUNIM_UI_SHOTS", "/tmp"))


@pytest.fixture(scope="session")
def web_dist() -> Path:
    if not (DIST / "index.html").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("web UI not built and npm is not installed: cd web && npm ci && npm run build")
        if not (WEB / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return DIST


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def route_missing(stack: Stack, method: str, path: str) -> bool:
    """True when the server has no such route yet (FastAPI's bare 404 'Not Found' or a 405)."""
    with stack.client() as c:
        r = c.request(method, path)
    if r.status_code == 405:
        return True
    if r.status_code == 404:
        try:
            return bool(r.json().get("detail") == "Not Found")
        except ValueError:
            return True
    return False


@pytest.fixture(scope="session")
def missing_routes(stack: Stack) -> set[str]:
    """API paths the page may call that this server does not have yet: their 404s are not UI bugs."""
    probes = {
        "/api/metrics": ("GET", "/api/metrics"),
        "/api/queues": ("GET", "/api/queues"),
        "/api/dead-letters": ("GET", "/api/dead-letters"),
        "/api/workers": ("GET", "/api/workers"),
        "/api/events": ("GET", "/api/events?probe=1"),
    }
    missing = set()
    for prefix, (method, path) in probes.items():
        if prefix == "/api/events":
            # A real stream never ends: only look at the status line.
            with stack.client() as c, c.stream(method, path, params={"token": TOKEN}) as r:
                if r.status_code in (404, 405):
                    missing.add(prefix)
            continue
        if route_missing(stack, method, path):
            missing.add(prefix)
    return missing


@pytest.fixture(scope="session")
def serves_ui(stack: Stack) -> bool:
    r = httpx.get(stack.url + "/jobs", timeout=10)
    return r.status_code == 200 and 'id="root"' in r.text


def _serve_dist(dist: Path) -> Any:
    def handler(route: Any) -> None:
        path = httpx.URL(route.request.url).path
        f = (dist / path.lstrip("/")).resolve()
        if not f.is_file() or dist.resolve() not in f.parents:
            f = dist / "index.html"  # SPA fallback: the router reads the path
        ctype = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=f.read_bytes(), headers={"content-type": ctype})

    return handler


@dataclass
class UI:
    url: str
    page: Any
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.url + path)

    def shot(self, name: str) -> Path:
        out = SHOTS / f"dymunim-ui-{name}.png"
        self.page.screenshot(path=str(out), full_page=True)
        return out

    def assert_no_errors(self) -> None:
        assert not self.errors, "errors in the browser console:\n" + "\n".join(self.errors)


def open_ui(
    browser: Any, stack: Stack, web_dist: Path, serves_ui: bool, missing: set[str], token: str | None
) -> tuple[Any, UI]:
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="light")
    if token is not None:
        ctx.add_init_script(f"localStorage.setItem('dymunim.token', {token!r})")
    if not serves_ui:
        ctx.route(re.compile(r"^https?://[^/]+/(?!api/|health).*"), _serve_dist(web_dist))
    page = ctx.new_page()
    ui = UI(stack.url, page)

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "") or ""
        path = httpx.URL(url).path if url.startswith("http") else ""
        if any(path.startswith(m) for m in missing) or any(m in msg.text for m in missing):
            return  # an endpoint the server has not grown yet
        if token is None and (path.startswith("/api/") or "401" in msg.text):
            return  # signed out: the API is expected to refuse
        ui.errors.append(f"console: {msg.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: ui.errors.append(f"pageerror: {exc}"))
    return ctx, ui


@pytest.fixture
def ui(browser: Any, stack: Stack, web_dist: Path, serves_ui: bool, missing_routes: set[str]) -> Iterator[UI]:
    ctx, u = open_ui(browser, stack, web_dist, serves_ui, missing_routes, TOKEN)
    yield u
    ctx.close()


@pytest.fixture
def anon_ui(browser: Any, stack: Stack, web_dist: Path, serves_ui: bool, missing_routes: set[str]) -> Iterator[UI]:
    ctx, u = open_ui(browser, stack, web_dist, serves_ui, missing_routes, None)
    yield u
    ctx.close()
