"""Pages under the Content-Security-Policy: /docs from this origin only, health detail behind the token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.conftest import TOKEN, Stack
from tests.ui.conftest import UI, open_ui


def test_docs_render_from_this_origin_only(browser: Any, stack: Stack, web_dist: Path) -> None:
    ctx, ui = open_ui(browser, stack, TOKEN)
    requested: list[str] = []
    violations: list[str] = []
    ui.page.on("request", lambda req: requested.append(req.url))
    ui.page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        ui.goto("/docs")
        expect(ui.page.locator(".swagger-ui .title").first).to_contain_text("dymunim")
        op = ui.page.locator("#operations-jobs-submit_job")
        expect(op).to_be_visible()
        # "Try it out" carries the token the UI stored, so a signed-in user's calls are authorised.
        listing = ui.page.locator("#operations-jobs-list_jobs")
        listing.locator(".opblock-summary").click()
        listing.get_by_role("button", name="Try it out", exact=True).click()
        with ui.page.expect_response(lambda r: r.url.startswith(stack.url + "/api/jobs")) as answer:
            listing.get_by_role("button", name="Execute", exact=True).click()
        assert answer.value.status == 200
        ui.page.wait_for_load_state("networkidle")
        ui.shot("docs")
    finally:
        ctx.close()
    assert not violations, violations
    origin = httpx.URL(stack.url)
    foreign = [u for u in requested if not u.startswith("data:") and httpx.URL(u).host != origin.host]
    assert not foreign, f"/docs asked other origins: {foreign}"
    assert any(u.endswith("/swagger/swagger-ui-bundle.js") for u in requested)
    ui.assert_no_errors()


def test_dashboard_health_shows_detail_from_the_token_protected_report(ui: UI, stack: Stack) -> None:
    assert "processes" not in httpx.get(stack.url + "/health").text, "the open /health has no process table"
    ui.goto("/")
    card = ui.page.get_by_test_id("executor-health")
    expect(card).to_contain_text("Dispatchers (1)")
    expect(card.locator("tbody tr").first).to_be_visible()  # pid, in flight, restarts, RSS per workerd
    expect(card).to_contain_text("All good")
    ui.assert_no_errors()
