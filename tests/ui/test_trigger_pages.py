"""Saved workers, schedules, events and chains in a real browser against a real `dymunim up`."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import Stack
from tests.ui.conftest import UI

NAV = ("Dashboard", "Jobs", "Workers", "Schedules", "Events", "Metrics", "Queues")


def tag() -> str:
    return uuid.uuid4().hex[:8]


def call(stack: Stack, method: str, path: str, status: int | tuple[int, ...] = (200, 201), **kw: Any) -> Any:
    with stack.client() as c:
        r = c.request(method, path, **kw)
    expected = (status,) if isinstance(status, int) else status
    assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def save_worker(stack: Stack, name: str, code: str) -> dict[str, Any]:
    out: dict[str, Any] = call(stack, "POST", "/api/workers", json={"name": name, "code": code})
    return out


def run_worker(stack: Stack, worker_id: str, payload: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = call(stack, "POST", f"/api/workers/{worker_id}/run", params={"wait": 30},
                               json={"payload": payload})
    return out


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def drop_expected(ui: UI, status: int, path: str) -> None:
    """Chromium logs every 4xx answer to the console; one the page asked for on purpose (and showed) is no error."""
    ui.errors[:] = [e for e in ui.errors if not (f"status of {status}" in e and path in e)]


def editor_type(ui: UI, label: str, text: str) -> None:
    """Replace what a CodeMirror editor holds (it has no fill): select all, then type."""
    ui.page.get_by_label(label).click()
    ui.page.keyboard.press("Control+a")
    ui.page.keyboard.type(text)


PAGES = [
    ("workers", "/workers", "Workers"),
    ("schedules", "/schedules", "Schedules"),
    ("events", "/events", "Events"),
]


@pytest.mark.parametrize(("name", "path", "heading"), PAGES, ids=[p[0] for p in PAGES])
def test_trigger_page_renders_without_console_errors(ui: UI, name: str, path: str, heading: str) -> None:
    ui.goto(path)
    expect(ui.page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    ui.page.wait_for_load_state("networkidle")
    nav = ui.page.get_by_role("navigation", name="Main", exact=True)
    for label in NAV:
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    expect(nav.get_by_role("link", name=heading)).to_have_attribute("data-status", "active")
    ui.shot(name)
    ui.assert_no_errors()


def test_workers_list_shows_saved_workers_and_searches_them(ui: UI, stack: Stack) -> None:
    t = tag()
    alpha = save_worker(stack, f"alpha-{t}", "return payload * 2")
    beta = save_worker(stack, f"beta-{t}", "return 1")
    assert run_worker(stack, alpha["worker_id"], 4)["result"] == 8
    ui.goto("/workers")
    table = ui.page.get_by_test_id("workers-table")
    row_a = table.locator(f"tr[data-worker-id='{alpha['worker_id']}']")
    row_b = table.locator(f"tr[data-worker-id='{beta['worker_id']}']")
    expect(row_a).to_be_visible()
    expect(row_b).to_be_visible()
    expect(row_a).to_contain_text("v1")
    expect(row_a.get_by_test_id("failure-rate")).to_have_text("0% · 0 of 1")
    expect(row_b).to_contain_text("never")
    expect(row_b.get_by_test_id("failure-rate")).to_have_text("no runs yet")

    ui.page.get_by_label("Search workers").fill(f"alpha-{t}")
    expect(row_b).to_have_count(0)
    expect(row_a).to_be_visible()
    expect(ui.page).to_have_url(re.compile(rf"[?&]q=alpha-{t}"))
    ui.page.get_by_label("Search workers").fill(f"nothing-{t}")
    expect(ui.page.get_by_text(f'No worker\'s name contains "nothing-{t}"')).to_be_visible()

    ui.page.get_by_label("Search workers").fill(f"alpha-{t}")
    expect(row_a).to_be_visible()
    ui.shot("workers-list")
    row_a.get_by_role("link", name=f"alpha-{t}").click()
    expect(ui.page.get_by_role("heading", level=1, name=f"alpha-{t}")).to_be_visible()
    ui.assert_no_errors()


def test_worker_page_saves_a_version_keeps_the_old_one_and_runs(ui: UI, stack: Stack) -> None:
    t = tag()
    w = save_worker(stack, f"doubler-{t}", "return payload.n * 2")
    ui.goto(f"/workers/{w['worker_id']}")
    expect(ui.page.get_by_role("heading", level=1, name=f"doubler-{t}")).to_be_visible()
    expect(ui.page.get_by_test_id("current-version")).to_have_text("v1")
    expect(ui.page.get_by_test_id("code-view")).to_contain_text("return payload.n * 2")

    # Edit, save as a new version: v2 becomes current.
    ui.page.get_by_role("button", name="Edit", exact=True).click()
    editor_type(ui, "Worker code", "return payload.n * 3")
    ui.page.get_by_role("button", name="Save as new version").click()
    expect(ui.page.get_by_test_id("current-version")).to_have_text("v2")
    expect(ui.page.get_by_test_id("code-panel").get_by_role("status")).to_contain_text("Saved as v2")
    expect(ui.page.get_by_test_id("code-view")).to_contain_text("return payload.n * 3")

    # The old version's code is still there.
    ui.page.get_by_role("combobox", name="Version").click()
    ui.page.get_by_role("option", name=re.compile(r"^v1(?!\d)")).click()
    expect(ui.page.get_by_test_id("code-view")).to_contain_text("return payload.n * 2")
    expect(ui.page.get_by_test_id("code-panel")).to_contain_text("Showing v1, an older version")
    expect(ui.page).to_have_url(re.compile(r"[?&]version=1"))
    ui.page.get_by_role("combobox", name="Version").click()
    ui.page.get_by_role("option", name=re.compile(r"^v2(?!\d)")).click()
    expect(ui.page.get_by_test_id("code-view")).to_contain_text("return payload.n * 3")

    # Run with a payload: the current version answers.
    editor_type(ui, "Payload JSON", '{"n": 5}')
    expect(ui.page.get_by_test_id("payload-status")).to_have_text("Valid JSON")
    ui.page.get_by_test_id("run").click()
    result = ui.page.get_by_test_id("run-result")
    expect(result.locator("[data-status=succeeded]")).to_be_visible(timeout=40_000)
    expect(result.get_by_test_id("result-json")).to_have_text("15")
    expect(result.get_by_test_id("run-version")).to_have_text("v2")
    job_link = result.get_by_role("link", name=re.compile(r"job #\d+"))
    job_id = re.sub(r"\D", "", job_link.inner_text())
    # The run is listed under recent runs with its version.
    row = ui.page.get_by_test_id("recent-runs").locator(f"tr[data-job-id='{job_id}']")
    expect(row).to_contain_text("v2", timeout=15_000)
    ui.shot("worker-detail")
    ui.assert_no_errors()


def test_worker_page_adds_and_removes_a_subscription(ui: UI, stack: Stack) -> None:
    t = tag()
    w = save_worker(stack, f"listener-{t}", "return payload")
    ui.goto(f"/workers/{w['worker_id']}")
    subs = ui.page.get_by_test_id("subscriptions")
    expect(subs).to_contain_text("No events start this worker yet.")

    # A pattern the server refuses is said so before sending it.
    subs.get_by_label("Event pattern").fill("*.paid")
    expect(subs).to_contain_text("A * may only end the pattern")
    expect(subs.get_by_role("button", name="Subscribe")).to_be_disabled()

    pattern = f"order{t}.*"
    subs.get_by_label("Event pattern").fill(pattern)
    subs.get_by_role("button", name="Subscribe").click()
    patterns = subs.get_by_role("list", name="Event patterns")
    expect(patterns).to_contain_text(pattern)
    listed = call(stack, "GET", "/api/subscriptions", params={"worker_id": w["worker_id"]})["subscriptions"]
    assert [s["pattern"] for s in listed] == [pattern]

    subs.get_by_role("button", name=f"Remove {pattern}").click()
    expect(subs).to_contain_text("No events start this worker yet.")
    assert call(stack, "GET", "/api/subscriptions", params={"worker_id": w["worker_id"]})["subscriptions"] == []
    ui.assert_no_errors()


def test_create_a_schedule_with_the_cron_helper_then_pause_and_resume(ui: UI, stack: Stack) -> None:
    t = tag()
    w = save_worker(stack, f"ticker-{t}", "return 'tick'")
    name = f"every-10s-{t}"
    bad = "61 * * * *"
    detail = call(stack, "GET", "/api/schedules/preview", status=422, params={"cron": bad})["detail"]
    ui.goto("/schedules")
    expect(ui.page.get_by_role("heading", level=1, name="Schedules")).to_be_visible()
    ui.page.get_by_role("button", name="New schedule").click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    preview = dialog.get_by_test_id("cron-preview")

    # The helper shows the next five times of what is typed; a bad expression, the server's message.
    dialog.get_by_label("Cron", exact=True).fill("*/10 * * * * *")
    expect(preview.get_by_test_id("cron-time")).to_have_count(5)
    dialog.get_by_label("Cron", exact=True).fill(bad)
    expect(preview.get_by_test_id("cron-error")).to_have_text(detail)
    expect(dialog.get_by_role("button", name="Create schedule")).to_be_disabled()

    # In a zone: the times carry its offset (Kolkata: +05:30 all year).
    dialog.get_by_label("Cron", exact=True).fill("*/10 * * * * *")
    dialog.get_by_label("Time zone").fill("Asia/Kolkata")
    expect(preview).to_contain_text("Asia/Kolkata")
    expect(preview.get_by_test_id("cron-time")).to_have_count(5)
    expect(preview.get_by_test_id("cron-time").first).to_contain_text("+05:30")
    expect(dialog.get_by_label("Cron", exact=True)).to_have_attribute("aria-invalid", "false")
    ui.shot("schedule-form")

    dialog.get_by_role("combobox", name="Worker").click()
    ui.page.get_by_role("option", name=re.compile(rf"^ticker-{t}")).click()
    dialog.get_by_role("button", name="Create schedule").click()
    expect(dialog).to_be_hidden()
    expect(ui.page.get_by_role("status")).to_contain_text(f"Created {name}")

    (created,) = [s for s in call(stack, "GET", "/api/schedules")["schedules"] if s["name"] == name]
    try:
        assert (created["worker_id"], created["timezone"], created["cron"]) == (
            w["worker_id"], "Asia/Kolkata", "*/10 * * * * *")
        row = ui.page.locator(f"tr[data-schedule-id='{created['schedule_id']}']")
        expect(row).to_contain_text("Active")
        expect(row).to_contain_text(f"ticker-{t}")
        expect(row.get_by_test_id("next-fire")).to_contain_text("+05:30")

        # The new schedule opens with its details; its first fire shows with its job.
        fires = ui.page.get_by_test_id("recent-fires")
        expect(fires.get_by_role("link", name=re.compile(r"^#\d+$")).first).to_be_visible(timeout=40_000)
        expect(fires.locator("[data-status]").first).to_be_visible()
        ui.shot("schedules")

        row.get_by_role("button", name="Pause").click()
        expect(row).to_contain_text("Paused")
        expect(row.get_by_role("button", name="Resume")).to_be_visible()
        assert call(stack, "GET", f"/api/schedules/{created['schedule_id']}")["paused"] is True
        row.get_by_role("button", name="Resume").click()
        expect(row).to_contain_text("Active")
        expect(row.get_by_role("button", name="Pause")).to_be_visible()
        assert call(stack, "GET", f"/api/schedules/{created['schedule_id']}")["paused"] is False

        # Deleting asks first.
        ui.page.get_by_test_id("schedule-detail").get_by_role("button", name="Delete").click()
        confirm = ui.page.get_by_role("dialog")
        expect(confirm).to_contain_text(f"Delete {name}?")
        confirm.get_by_role("button", name="Delete schedule").click()
        expect(row).to_have_count(0)
    finally:
        call(stack, "DELETE", f"/api/schedules/{created['schedule_id']}", status=(200, 404))
    drop_expected(ui, 422, "/api/schedules/preview")  # the bad expression, asked on purpose
    ui.assert_no_errors()


def test_events_page_shows_a_published_event_and_its_jobs(ui: UI, stack: Stack) -> None:
    t = tag()
    w = save_worker(stack, f"on-signup-{t}", "return {welcome: payload.user}")
    event = f"user{t}.signed_up"
    call(stack, "POST", "/api/subscriptions", json={"worker_id": w["worker_id"], "pattern": f"user{t}.*"})
    other = call(stack, "POST", "/api/events/publish", json={"name": f"other{t}.thing", "data": {"x": 1}})
    assert other["job_ids"] == []

    ui.goto("/events")
    expect(ui.page.get_by_role("heading", level=1, name="Events")).to_be_visible()
    ui.page.get_by_role("button", name="Publish event").click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(event)
    editor_type(ui, "Event data JSON", '{"user": "ada"}')
    dialog.get_by_role("button", name="Publish").click()
    status = dialog.get_by_role("status")
    expect(status).to_contain_text("Published event #")
    job_link = status.get_by_role("link", name=re.compile(r"job #\d+"))
    expect(job_link).to_have_count(1)
    job_id = re.sub(r"\D", "", job_link.inner_text())
    dialog.get_by_role("button", name="Done").click()

    row = ui.page.get_by_test_id("event-row").filter(has_text=event)
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("event-data")).to_contain_text('"user":"ada"')
    fanout = row.get_by_test_id("event-jobs").locator(f"a[data-job-id='{job_id}']")
    expect(fanout).to_contain_text(f"on-signup-{t}")
    expect(fanout.locator("[data-status=succeeded]")).to_be_visible(timeout=30_000)
    expect(ui.page.get_by_test_id("event-row").filter(has_text=f"other{t}.thing")).to_contain_text(
        "No subscriber: nothing started.")

    # The name filter keeps only that name.
    ui.page.get_by_label("Event name").fill(event)
    expect(ui.page).to_have_url(re.compile(rf"[?&]name=user{t}\.signed_up"))
    expect(ui.page.get_by_test_id("event-row").filter(has_text=f"other{t}.thing")).to_have_count(0)
    expect(row).to_have_count(1)
    ui.shot("events")

    # The fan-out job links to its page, which says which event started it.
    fanout.click()
    expect(ui.page.get_by_role("heading", level=1, name=f"Job #{job_id}")).to_be_visible()
    expect(ui.page.get_by_test_id("job-event")).to_have_text(event)
    expect(ui.page.get_by_test_id("job-worker")).to_contain_text("v1")
    ui.assert_no_errors()


def test_dashboard_shows_an_upcoming_scheduled_run(ui: UI, stack: Stack) -> None:
    t = tag()
    name = f"nightly-{t}"
    s = call(stack, "POST", "/api/schedules", json={"name": name, "cron": "0 3 * * *", "timezone": "UTC",
                                                      "code": "return 1"})
    try:
        ui.goto("/")
        expect(ui.page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
        upcoming = ui.page.get_by_test_id("upcoming-run").filter(has_text=name)
        expect(upcoming).to_have_count(1)
        expect(upcoming).to_contain_text("Upcoming")
        expect(upcoming).to_contain_text(re.compile(r"in \d+[smh]"))
        ui.page.wait_for_load_state("networkidle")
        ui.shot("dashboard-upcoming")
        # A paused schedule has nothing upcoming.
        call(stack, "POST", f"/api/schedules/{s['schedule_id']}/pause")
        ui.page.reload()
        expect(ui.page.get_by_role("heading", level=1, name="Dashboard")).to_be_visible()
        ui.page.wait_for_load_state("networkidle")
        expect(ui.page.get_by_test_id("upcoming-run").filter(has_text=name)).to_have_count(0)
    finally:
        call(stack, "DELETE", f"/api/schedules/{s['schedule_id']}")
    ui.assert_no_errors()


def test_jobs_page_filters_by_worker(ui: UI, stack: Stack) -> None:
    t = tag()
    a = save_worker(stack, f"mine-{t}", "return 'a'")
    b = save_worker(stack, f"theirs-{t}", "return 'b'")
    ja = run_worker(stack, a["worker_id"])
    jb = run_worker(stack, b["worker_id"])
    ui.goto(f"/jobs?worker_id={a['worker_id']}")
    table = ui.page.get_by_test_id("jobs-table")
    expect(table.locator(f"tr[data-job-id='{ja['job_id']}']")).to_be_visible()
    expect(table.locator("tr[data-job-id]")).to_have_count(1)
    chip = ui.page.get_by_test_id("filter-chips").locator("[data-filter=worker_id]")
    expect(chip).to_contain_text(f"mine-{t}")
    ui.shot("jobs-by-worker")
    chip.get_by_role("button", name="Remove the worker filter").click()
    expect(table.locator(f"tr[data-job-id='{jb['job_id']}']")).to_be_visible()
    expect(ui.page).not_to_have_url(re.compile(r"worker_id="))
    ui.assert_no_errors()


def test_job_page_shows_the_chain(ui: UI, stack: Stack) -> None:
    trace = f"chain-{tag()}"
    parent = stack.submit({"code": "ctx.enqueue({code: 'return 1', payload: 1}); return 'parent'",
                           "payload": {}, "trace_id": trace})
    assert parent["status"] == "succeeded", parent

    def child() -> dict[str, Any] | None:
        jobs = call(stack, "GET", "/api/jobs", params={"parent_job_id": parent["job_id"]})["jobs"]
        return jobs[0] if jobs and jobs[0]["status"] == "succeeded" else None

    kid = wait_for(child, what="the child job")

    # The parent lists its child, and the whole chain.
    ui.goto(f"/jobs/{parent['job_id']}")
    chain = ui.page.get_by_test_id("job-chain")
    children = chain.get_by_test_id("job-children")
    expect(children.get_by_role("link", name=f"#{kid['job_id']}")).to_be_visible()
    expect(children.locator("[data-status=succeeded]")).to_be_visible()
    expect(chain.get_by_test_id("job-parent")).to_have_count(0)
    ui.shot("job-chain-parent")

    # The child names its parent.
    children.get_by_role("link", name=f"#{kid['job_id']}").click()
    expect(ui.page.get_by_role("heading", level=1, name=f"Job #{kid['job_id']}")).to_be_visible()
    expect(chain.get_by_test_id("job-parent").get_by_role("link", name=f"#{parent['job_id']}")).to_be_visible()
    expect(chain.get_by_test_id("job-children")).to_have_count(0)
    expect(chain).to_contain_text("None.")

    # "Whole chain": the jobs page filtered by the trace id, both jobs and nothing else.
    chain.get_by_role("link", name="Whole chain").click()
    expect(ui.page).to_have_url(re.compile(rf"trace_id={trace}"))
    table = ui.page.get_by_test_id("jobs-table")
    expect(table.locator("tr[data-job-id]")).to_have_count(2)
    expect(table.locator(f"tr[data-job-id='{parent['job_id']}']")).to_be_visible()
    expect(table.locator(f"tr[data-job-id='{kid['job_id']}']")).to_contain_text(f"#{parent['job_id']}")
    expect(ui.page.get_by_test_id("filter-chips").locator("[data-filter=trace_id]")).to_be_visible()
    ui.assert_no_errors()
