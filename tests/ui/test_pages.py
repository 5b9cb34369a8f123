"""The control plane in a real browser against a real `dymunim up`: every page, live updates, steering."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import TOKEN, Stack
from tests.ui.conftest import UI

PAGES = [
    ("dashboard", "/", "Dashboard"),
    ("jobs", "/jobs", "Jobs"),
    ("new-worker", "/workers/new", "New worker"),
    ("metrics", "/metrics", "Metrics"),
    ("queues", "/queues", "Queues"),
]


@pytest.mark.parametrize(("name", "path", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_page_renders_without_console_errors(ui: UI, stack: Stack, name: str, path: str, heading: str) -> None:
    stack.submit({"code": "console.log('hello'); return payload.a + payload.b", "payload": {"a": 1, "b": 2}})
    if path == "/metrics":
        # Reached through the sidebar: a direct load of /metrics is test_metrics_page_survives_reload.
        ui.goto("/")
        ui.page.get_by_role("navigation", name="Main", exact=True).get_by_role("link", name="Metrics").click()
    else:
        ui.goto(path)
    expect(ui.page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    ui.page.wait_for_load_state("networkidle")
    # Every section in the nav, each a link (the editor, /workers/new, lives under Workers).
    nav = ui.page.get_by_role("navigation", name="Main", exact=True)
    for label in ("Dashboard", "Jobs", "Workers", "Schedules", "Events", "Metrics", "Queues"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    ui.shot(name)
    ui.assert_no_errors()


def test_metrics_page_survives_reload(ui: UI, stack: Stack) -> None:
    r = httpx.get(stack.url + "/metrics", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert "text/html" in r.headers["content-type"], "a browser asking for /metrics gets the UI"
    assert "dymunim_jobs" in httpx.get(stack.url + "/metrics").text, "a scraper still gets Prometheus text"
    ui.goto("/metrics?range_minutes=15")
    expect(ui.page.get_by_role("heading", level=1, name="Metrics")).to_be_visible()
    expect(ui.page.get_by_role("radio", name="15m")).to_have_attribute("aria-checked", "true")
    ui.assert_no_errors()


def test_job_detail_page(ui: UI, stack: Stack) -> None:
    job = stack.submit({"code": "console.warn('careful'); return {ok: payload.n}", "payload": {"n": 7}})
    ui.goto(f"/jobs/{job['job_id']}")
    expect(ui.page.get_by_role("heading", name=f"Job #{job['job_id']}")).to_be_visible()
    expect(ui.page.locator("[data-status=succeeded]").first).to_be_visible()
    timeline = ui.page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Queued")
    expect(timeline).to_contain_text("Succeeded")
    expect(ui.page.get_by_test_id("result-json")).to_contain_text('"ok": 7')
    ui.page.get_by_role("tab", name="Logs").click()
    expect(ui.page.get_by_test_id("job-logs")).to_contain_text("careful")
    ui.page.get_by_role("tab", name="Code").click()
    expect(ui.page.get_by_test_id("code-view")).to_contain_text("console.warn")
    ui.shot("job-detail")
    ui.assert_no_errors()


def test_run_from_new_worker_shows_result(ui: UI) -> None:
    ui.goto("/workers/new")
    expect(ui.page.get_by_test_id("payload-status")).to_have_text("Valid JSON")
    ui.page.get_by_test_id("run").click()
    result = ui.page.get_by_test_id("run-result")
    expect(result.locator("[data-status=succeeded]")).to_be_visible(timeout=40_000)
    expect(result.get_by_test_id("result-json")).to_have_text("5")
    link = result.get_by_role("link", name=re.compile(r"job #\d+"))
    expect(link).to_be_visible()

    # The worker-module template, run with the keyboard shortcut.
    ui.page.get_by_role("button", name="Worker module").click()
    ui.page.get_by_label("Worker code").click()
    ui.page.keyboard.press("Control+Enter")
    expect(result.get_by_test_id("result-json")).to_contain_text('"hello": "dymunim"', timeout=40_000)
    ui.shot("new-worker-result")
    ui.assert_no_errors()


def test_payload_validation_blocks_run(ui: UI) -> None:
    ui.goto("/workers/new")
    editor = ui.page.get_by_label("Payload JSON")
    editor.click()
    ui.page.keyboard.press("Control+a")
    ui.page.keyboard.type('{"a": 1,}')
    expect(ui.page.get_by_test_id("payload-status")).to_contain_text("Trailing comma")
    expect(ui.page.get_by_test_id("run")).to_be_disabled()


def test_new_job_appears_live_and_turns_succeeded(ui: UI, stack: Stack) -> None:
    ui.goto("/jobs")
    expect(ui.page.get_by_role("heading", name="Jobs")).to_be_visible()
    ui.page.wait_for_load_state("networkidle")
    tag = uuid.uuid4().hex[:8]
    # Queue the job without waiting, so the page sees it queued/running first.
    job = stack.submit(
        {"code": "await new Promise(r => setTimeout(r, 300)); return payload.tag", "payload": {"tag": tag}},
        wait=0,
    )
    row = ui.page.locator(f"tr[data-job-id='{job['job_id']}']")
    expect(row).to_be_visible(timeout=20_000)
    expect(row.locator("[data-status=succeeded]")).to_be_visible(timeout=30_000)
    expect(row).to_contain_text(tag)
    # The link leads to the job page.
    row.get_by_role("link", name=f"#{job['job_id']}").click()
    expect(ui.page).to_have_url(re.compile(rf"/jobs/{job['job_id']}$"))
    ui.assert_no_errors()


def test_status_filter_lives_in_the_url(ui: UI, stack: Stack) -> None:
    stack.submit({"code": "throw new Error('filter me')", "payload": {}, "max_attempts": 1})
    ui.goto("/jobs?status=failed")
    table = ui.page.get_by_test_id("jobs-table")
    expect(table).to_be_visible()
    expect(table.locator("[data-status=succeeded]")).to_have_count(0)
    expect(table.locator("[data-status=failed]").first).to_be_visible()
    ui.assert_no_errors()


def test_retry_from_detail_page(ui: UI, stack: Stack) -> None:
    job = stack.submit({"code": "throw new Error('boom')", "payload": {}, "max_attempts": 1})
    assert job["status"] in ("failed", "dead"), job
    ui.goto(f"/jobs/{job['job_id']}")
    expect(ui.page.get_by_test_id("job-error")).to_contain_text("boom")
    expect(ui.page.get_by_test_id("attempts")).to_have_text("1")
    ui.page.get_by_role("button", name="Retry").click()
    # A new attempt runs (and fails again): the attempt count moves and the timeline shows it.
    expect(ui.page.get_by_test_id("attempts")).to_have_text("2", timeout=30_000)
    expect(ui.page.get_by_test_id("timeline")).to_contain_text("attempt 2", timeout=30_000)
    # Each attempt keeps its own outcome in the history, the first one included.
    expect(ui.page.get_by_test_id("attempt-history").locator("li")).to_have_count(2, timeout=30_000)
    expect(ui.page.get_by_test_id("attempt-history")).to_contain_text("boom")
    ui.shot("job-retried")
    ui.assert_no_errors()


def test_sign_in_screen(anon_ui: UI, stack: Stack) -> None:
    anon_ui.goto("/jobs")
    expect(anon_ui.page.get_by_role("heading", name="Sign in to dymunim")).to_be_visible()
    anon_ui.shot("sign-in")
    anon_ui.page.get_by_label("API token").fill("wrong-token")
    anon_ui.page.get_by_role("button", name="Sign in").click()
    expect(anon_ui.page.get_by_role("alert")).to_contain_text("wrong bearer token")
    anon_ui.page.get_by_label("API token").fill(TOKEN)
    anon_ui.page.get_by_role("button", name="Sign in").click()
    expect(anon_ui.page.get_by_role("heading", level=1, name="Jobs")).to_be_visible()
    assert anon_ui.page.evaluate("localStorage.getItem('dymunim.token')") == TOKEN


def test_theme_toggle_is_remembered(ui: UI, stack: Stack) -> None:
    stack.submit({"code": "return 1", "payload": {}})
    ui.goto("/jobs")
    expect(ui.page.get_by_role("heading", level=1, name="Jobs")).to_be_visible()
    ui.page.get_by_role("radio", name="Dark theme").click()
    assert ui.page.evaluate("document.documentElement.classList.contains('dark')")
    ui.page.reload()
    expect(ui.page.get_by_role("heading", level=1, name="Jobs")).to_be_visible()
    assert ui.page.evaluate("localStorage.getItem('dymunim.theme')") == "dark"
    assert ui.page.evaluate("document.documentElement.classList.contains('dark')")
    ui.page.wait_for_load_state("networkidle")
    ui.shot("jobs-dark")
    ui.goto("/workers/new")
    expect(ui.page.get_by_role("heading", level=1, name="New worker")).to_be_visible()
    ui.shot("new-worker-dark")
    ui.assert_no_errors()


def test_replay_dead_letter_from_queues(ui: UI, stack: Stack) -> None:
    job = stack.submit(
        {"code": "throw new Error('to the dlq')", "payload": {}, "retry_on_error": True, "max_attempts": 1}
    )
    assert job["status"] == "dead", job
    ui.goto("/queues")
    dlq = ui.page.get_by_test_id("dead-letters")
    row = dlq.locator("li", has=ui.page.get_by_role("link", name=f"job #{job['job_id']}", exact=True))
    expect(row).to_be_visible(timeout=15_000)
    ui.shot("queues-dlq")
    row.get_by_role("button", name="Replay").click()
    expect(dlq.get_by_role("status")).to_contain_text("Replayed as", timeout=15_000)
    ui.assert_no_errors()


def test_purge_needs_confirmation(ui: UI, stack: Stack) -> None:
    stack.submit({"code": "throw new Error('purge me')", "payload": {}, "retry_on_error": True, "max_attempts": 1})
    ui.goto("/queues")
    dlq = ui.page.get_by_test_id("dead-letters")
    expect(dlq.get_by_role("button", name="Purge")).to_be_enabled(timeout=15_000)
    dlq.get_by_role("button", name="Purge").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog).to_contain_text("Purge the dead-letter queue?")
    dialog.get_by_role("button", name=re.compile(r"^Purge \d+$")).click()
    expect(dlq.get_by_role("status")).to_contain_text("Purged", timeout=15_000)
    expect(dlq).to_contain_text("No dead letters")
    ui.assert_no_errors()


def test_save_worker(ui: UI, stack: Stack) -> None:
    ui.goto("/workers/new")
    ui.page.get_by_role("button", name="Save").click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(f"sum-{uuid.uuid4().hex[:6]}")
    dialog.get_by_role("button", name="Save worker").click()
    expect(dialog).to_contain_text("Saved as", timeout=15_000)
    ui.assert_no_errors()


def test_job_detail_shows_when_a_waiting_job_runs(ui: UI, stack: Stack) -> None:
    job = stack.submit({"code": "return 1", "delay_ms": 600_000}, wait=0)
    ui.goto(f"/jobs/{job['job_id']}")
    expect(ui.page.get_by_test_id("next-run")).to_contain_text(re.compile(r"in (9|10)m"))
    ui.page.get_by_role("button", name="Cancel").click()
    expect(ui.page.locator("[data-status=cancelled]").first).to_be_visible(timeout=10_000)
    ui.assert_no_errors()
