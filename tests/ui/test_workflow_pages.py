"""Durable workflows in a real browser against a real `dymunim up`: a run's steps and waterfall, the
event a waiting run gets from the page, a sleeping run's countdown and cancel, the list's status filter."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.conftest import Stack
from tests.ui.conftest import UI

APPROVAL = """
export default {
  async run(event, step) {
    const a = await step.do("first", async () => ({ n: 1 }));
    const ok = await step.waitForEvent("approval", { type: "approved", timeout: "10 minutes" });
    return await step.do("last", async () => ({ n: a.n + 1, by: ok.payload.by }));
  }
}
"""

NAP = """
export default {
  async run(event, step) {
    await step.do("first", async () => "awake");
    await step.sleep("nap", "1 minute");
    return await step.do("after", async () => "rested");
  }
}
"""

# Generous: a workflow's first call waits for a dispatcher and an executor like any job.
LIVE = 40_000


def call(stack: Stack, method: str, path: str, status: int | tuple[int, ...] = (200, 201, 202), **kw: Any) -> Any:
    with stack.client() as c:
        r = c.request(method, path, **kw)
    expected = (status,) if isinstance(status, int) else status
    assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def wait_for(check: Callable[[], Any], timeout: float = 40, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start(stack: Stack, code: str, status: str) -> dict[str, Any]:
    """A workflow run submitted without waiting, once it has reached `status`."""
    job = stack.submit({"code": code, "payload": {}}, wait=0)

    def reached() -> dict[str, Any] | None:
        j: dict[str, Any] = call(stack, "GET", f"/api/jobs/{job['job_id']}")
        return j if j["status"] == status else None

    out: dict[str, Any] = wait_for(reached, what=f"job {job['job_id']} to be {status}")
    return out


def step_row(ui: UI, name: str) -> Any:
    return ui.page.get_by_test_id("step").and_(ui.page.locator(f"[data-step='{name}']"))


def editor_type(ui: UI, label: str, text: str) -> None:
    """Replace what a CodeMirror editor holds (it has no fill): select all, then type."""
    ui.page.get_by_label(label).click()
    ui.page.keyboard.press("Control+a")
    ui.page.keyboard.type(text)


def test_waiting_run_gets_its_event_from_the_page_and_finishes_live(ui: UI, stack: Stack) -> None:
    job = stack.submit({"code": APPROVAL, "payload": {}}, wait=0)
    ui.goto(f"/jobs/{job['job_id']}")
    expect(ui.page.get_by_role("heading", name=f"Job #{job['job_id']}")).to_be_visible()

    # The first step ran; the run now waits for its event, and says so.
    expect(step_row(ui, "first")).to_have_attribute("data-status", "completed", timeout=LIVE)
    callout = ui.page.get_by_test_id("waiting-callout")
    expect(callout).to_be_visible(timeout=LIVE)
    expect(callout).to_contain_text("Waiting for event approved (step approval), times out in")
    expect(ui.page.get_by_test_id("job-status").locator("[data-status=waiting]")).to_be_visible()
    expect(step_row(ui, "approval")).to_have_attribute("data-status", "waiting")
    expect(ui.page.get_by_role("button", name="Cancel", exact=True)).to_be_visible()
    ui.shot("workflow-waiting")

    # Send it from the page: the type is the one the run waits for.
    callout.get_by_role("button", name="Send event").click()
    dialog = ui.page.get_by_role("dialog")
    expect(dialog.get_by_label("Type")).to_have_value("approved")
    editor_type(ui, "Event payload JSON", '{"by":"ann"}')
    expect(dialog.get_by_test_id("event-payload-status")).to_have_text("Valid JSON")
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(dialog.get_by_test_id("send-event-result")).to_contain_text("Delivered to the step approval")
    dialog.get_by_role("button", name="Done").click()

    # The run goes on by itself and the page follows it without a reload.
    expect(ui.page.get_by_test_id("job-status").locator("[data-status=succeeded]")).to_be_visible(timeout=LIVE)
    expect(callout).to_have_count(0)
    for name in ("first", "approval", "last"):
        expect(step_row(ui, name)).to_have_attribute("data-status", "completed")
    expect(step_row(ui, "approval")).to_contain_text("Received approved")
    expect(step_row(ui, "last")).to_contain_text('{"n":2,"by":"ann"}')
    bars = ui.page.get_by_test_id("waterfall").locator("[data-bar]")
    expect(bars).to_have_count(3)
    expect(ui.page.get_by_test_id("waterfall").locator("[data-bar='approval']")).to_have_attribute(
        "data-status", "completed")
    inbox = ui.page.get_by_test_id("inbox")
    expect(inbox.get_by_test_id("inbox-event")).to_have_count(1)
    expect(inbox).to_contain_text("taken by step approval")
    ui.page.get_by_role("tab", name="Result").click()
    expect(ui.page.get_by_test_id("result-json")).to_contain_text('"by": "ann"')

    # A finished run takes no more events: the dialog is gone, the API answers 409.
    expect(ui.page.get_by_role("button", name="Send event")).to_have_count(0)
    call(stack, "POST", f"/api/jobs/{job['job_id']}/events", status=409, json={"type": "approved", "payload": {}})
    ui.shot("workflow-succeeded")
    ui.assert_no_errors()


def test_sleeping_run_counts_down_and_is_cancelled_from_the_page(ui: UI, stack: Stack) -> None:
    job = start(stack, NAP, "sleeping")
    ui.goto(f"/jobs/{job['job_id']}")
    callout = ui.page.get_by_test_id("sleeping-callout")
    expect(callout).to_contain_text("Sleeping until")
    expect(callout).to_contain_text("(step nap)")
    countdown = callout.get_by_test_id("sleep-countdown")
    expect(countdown).to_have_text(re.compile(r"^[01]:\d\d$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5_000)  # it ticks
    expect(step_row(ui, "first")).to_have_attribute("data-status", "completed")
    expect(step_row(ui, "nap")).to_have_attribute("data-status", "sleeping")
    expect(ui.page.get_by_test_id("waterfall").get_by_test_id("bar-planned")).to_have_count(1)
    ui.shot("workflow-sleeping")

    ui.page.get_by_role("button", name="Cancel", exact=True).click()
    expect(ui.page.get_by_test_id("job-status").locator("[data-status=cancelled]")).to_be_visible(timeout=10_000)
    expect(callout).to_have_count(0)
    expect(ui.page.get_by_role("button", name="Cancel", exact=True)).to_have_count(0)
    assert call(stack, "GET", f"/api/jobs/{job['job_id']}")["status"] == "cancelled"
    ui.assert_no_errors()


def test_jobs_list_filters_waiting_runs_and_marks_workflows(ui: UI, stack: Stack) -> None:
    job = start(stack, APPROVAL, "waiting")
    try:
        ui.goto("/jobs")
        table = ui.page.get_by_test_id("jobs-table")
        expect(table).to_be_visible()
        ui.page.get_by_role("combobox", name="Status").click()
        expect(ui.page.get_by_role("option", name="Sleeping")).to_be_visible()
        ui.page.get_by_role("option", name="Waiting").click()
        expect(ui.page).to_have_url(re.compile(r"[?&]status=waiting"))
        row = table.locator(f"tr[data-job-id='{job['job_id']}']")
        expect(row).to_be_visible()
        expect(row.locator("[data-status=waiting]")).to_be_visible()
        expect(row.get_by_test_id("step-count")).to_have_text(re.compile(r"\d+ steps?"))
        # Only waiting runs are listed.
        statuses = table.locator("tbody tr [data-status]")
        for i in range(statuses.count()):
            expect(statuses.nth(i)).to_have_attribute("data-status", "waiting")
        ui.shot("workflow-list-waiting")
        ui.assert_no_errors()
    finally:
        call(stack, "POST", f"/api/jobs/{job['job_id']}/cancel")


def test_the_workflow_template_runs_and_its_job_page_shows_the_steps(ui: UI) -> None:
    ui.goto("/workers/new?template=workflow")
    expect(ui.page.get_by_test_id("payload-status")).to_have_text("Valid JSON")
    ui.page.get_by_test_id("run").click()
    result = ui.page.get_by_test_id("run-result")
    # The run answers once the workflow sleeps (?wait= does not hold the request through a sleep).
    expect(result.get_by_test_id("run-between-steps")).to_contain_text("sleeps", timeout=LIVE)
    result.get_by_role("link", name="job page").click()
    expect(ui.page.get_by_test_id("job-status").locator("[data-status=succeeded]")).to_be_visible(timeout=LIVE)
    ui.page.get_by_role("tab", name="Result").click()  # the page opened on the code: the run had no result yet
    expect(ui.page.get_by_test_id("result-json")).to_contain_text('"confirmed": true')
    for name in ("reserve", "settle", "confirm"):
        expect(step_row(ui, name)).to_have_attribute("data-status", "completed")
    expect(step_row(ui, "confirm")).to_contain_text("3 retries · 1 s exponential")
    expect(ui.page.get_by_test_id("waterfall").locator("[data-bar]")).to_have_count(3)
    ui.shot("workflow-template")
    ui.assert_no_errors()
