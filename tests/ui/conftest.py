"""The browser side: the built web UI in Debian's chromium (never a downloaded browser), driven by Playwright.

The UI is built into `src/dymunim/web_dist/` (`cd web && npm ci && npm run build`); when it is missing
the `web_dist` fixture builds it once. When the server does not serve it yet (no SPA fallback for
non-API paths), the page fixture serves those files itself through request interception, so the
tests exercise the same bundle against the real API either way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.conftest import TOKEN, Stack

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
        assert npm is not None, "web UI not built and npm is not installed: cd web && npm ci && npm run build"
        if not (WEB / "node_modules").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True)
    return DIST


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Never skipped: the browser tests are real-component tests (.ci/run installs Debian's chromium).
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install -y chromium"
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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


def open_ui(browser: Any, stack: Stack, token: str | None) -> tuple[Any, UI]:
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="light")
    if token is not None:
        ctx.add_init_script(f"localStorage.setItem('dymunim.token', {token!r})")
    page = ctx.new_page()
    ui = UI(stack.url, page)

    def on_console(msg: Any) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "") or ""
        path = httpx.URL(url).path if url.startswith("http") else ""
        if token is None and (path.startswith("/api/") or "401" in msg.text):
            return  # signed out: the API is expected to refuse
        ui.errors.append(f"console: {msg.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: ui.errors.append(f"pageerror: {exc}"))
    return ctx, ui


@pytest.fixture
def ui(browser: Any, stack: Stack, web_dist: Path) -> Iterator[UI]:
    ctx, u = open_ui(browser, stack, TOKEN)
    yield u
    ctx.close()


@pytest.fixture
def anon_ui(browser: Any, stack: Stack, web_dist: Path) -> Iterator[UI]:
    ctx, u = open_ui(browser, stack, None)
    yield u
    ctx.close()
