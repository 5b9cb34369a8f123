"""Durable workflows on the whole system (real Postgres, real workerd, real processes).

A run's steps pass values along and each runs once; killing the dispatcher again and again while a
step runs never runs a completed step again; a sleeping run holds no slot and wakes on time; a waiting
run takes the event sent to it, or times out; a failing step retries with its own backoff."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_crash import wait_for
from tests.e2e.test_triggers import second_dispatcher

SLOTS = 10


@pytest.fixture(scope="module")
def wf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("workflows"), DYMUNIM_MAX_IN_FLIGHT=str(SLOTS))
    yield s
    stop_stack_proc(s.proc)


def post(s: Stack, path: str, body: Any, status: int = 201) -> Any:
    with s.client() as c:
        r = c.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


def get(s: Stack, path: str, **params: Any) -> Any:
    with s.client() as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def job(s: Stack, job_id: int) -> dict[str, Any]:
    out: dict[str, Any] = get(s, f"/api/jobs/{job_id}")
    return out


def until_status(s: Stack, job_id: int, *statuses: str, timeout: float = 60) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(lambda: (j := job(s, job_id))["status"] in statuses and j,
                                     timeout=timeout, what=f"job {job_id} to be {'/'.join(statuses)}")
    return found


FIVE_STEPS = """
export default {
  async run(event, step) {
    const a = await step.do("one", async () => event.payload.start + 1);
    const b = await step.do("two", async () => a * 2);
    const c = await step.do("three", async () => ({ sum: a + b }));
    const d = await step.do("four", async () => [c.sum, "x"]);
    const e = await step.do("five", async () => d.concat([event.id === Number(event.instanceId)]));
    return { a, b, c, d, e, at: event.timestamp instanceof Date };
  }
}
"""


def test_a_five_step_run_passes_values_along_and_records_each_step_once(wf: Stack) -> None:
    j = post(wf, "/api/jobs", {"code": FIVE_STEPS, "payload": {"start": 1}})
    done = until_status(wf, j["job_id"], "succeeded", "failed", "dead")
    assert done["status"] == "succeeded", done
    assert done["result"] == {"a": 2, "b": 4, "c": {"sum": 6}, "d": [6, "x"], "e": [6, "x", True], "at": True}
    steps = done["step_history"]
    assert [st["name"] for st in steps] == ["one", "two", "three", "four", "five"]
    assert [st["seq"] for st in steps] == [1, 2, 3, 4, 5]
    assert all(st["status"] == "completed" and st["attempts"] == 1 and st["kind"] == "do" for st in steps), steps
    assert steps[2]["result"] == {"sum": 6}
    assert all(st["until"] is None and st["event_type"] is None for st in steps), "a step.do has no time of its own"
    assert done["steps"] == 5
    assert done["attempt_history"] == [] or all(a["outcome"] == "succeeded" for a in done["attempt_history"])


def tag() -> str:
    return uuid.uuid4().hex[:8]


KILL_LOOP = """
const fx = () => (globalThis.__fx ??= { isolate: crypto.randomUUID(), hits: {} });
const hit = (k) => { fx().hits[k] = (fx().hits[k] || 0) + 1; };
export default {
  async run(event, step) {
    const one = await step.do("one", async () => { hit("one"); return { isolate: fx().isolate, v: 1 }; });
    const two = await step.do("two", async () => { hit("two"); return one.v + 1; });
    const three = await step.do("three", async () => {
      hit("three");
      await new Promise((r) => setTimeout(r, 1500));
      return two + 1;
    });
    const four = await step.do("four", async () => { hit("four"); return three + 1; });
    return await step.do("five", async () => {
      hit("five");
      return { isolate: fx().isolate, value: four + 1, hits: { ...fx().hits } };
    });
  }
}
"""


def test_killing_the_dispatcher_during_step_three_never_runs_a_completed_step_again(wf: Stack) -> None:
    s = wf
    # Each step's callback counts its runs in its warm isolate (one cache_id, so one isolate for the whole
    # run): the last step returns the counts and the isolate's id, so the test knows none went uncounted.
    # `up` gives up on a dispatcher that dies again and again within seconds: its own is frozen (before the
    # run exists, so it never starts a step), and the test starts and SIGKILLs dispatchers of its own while
    # step three runs.
    own = s.children()["dispatch"]
    os.kill(own, signal.SIGSTOP)
    j = post(s, "/api/jobs", {"code": KILL_LOOP, "cache_id": f"kill-{tag()}", "max_attempts": 10})
    job_id = j["job_id"]

    def in_step_three() -> int:
        """The attempt running step three, or 0."""
        with s.db() as db:
            row = db.execute("SELECT j.status, j.attempts, (SELECT status FROM job_steps WHERE job_id = j.job_id"
                             " AND name = 'two') AS two FROM jobs_state j WHERE j.job_id = %s", (job_id,)).fetchone()
        return int(row["attempts"]) if row and row["status"] == "running" and row["two"] == "completed" else 0

    kills = 0
    killed = 0  # the attempt the last kill hit: the next one must be a new attempt
    try:
        for _ in range(3):
            d = second_dispatcher(s, environ_of=own)
            try:
                attempt = wait_for(lambda: (a := in_step_three()) > killed and a,  # noqa: B023
                                   timeout=30, what="a new attempt to be in step three")
                time.sleep(0.5)  # step three takes 1.5 s: the kill lands while it runs
                assert in_step_three() == attempt, "step three ended before the kill"
                killed = attempt
                kills += 1
            finally:
                d.kill()
                d.wait(10)
    finally:
        os.kill(own, signal.SIGCONT)  # finishes the run once the last attempt's message comes back
    done = until_status(s, job_id, "succeeded", "failed", "dead", timeout=90)
    assert done["status"] == "succeeded", done
    result = done["result"]
    one = next(st for st in done["step_history"] if st["name"] == "one")
    assert result["isolate"] == one["result"]["isolate"], "the isolate was replaced: its counts are incomplete"
    assert result["value"] == 5
    hits = result["hits"]
    assert (hits["one"], hits["two"], hits["four"], hits["five"]) == (1, 1, 1, 1), hits
    assert hits["three"] == kills + 1 == 4, hits
    with s.db() as db:
        rows = db.execute("SELECT name, status, attempts FROM job_steps WHERE job_id = %s ORDER BY seq",
                          (job_id,)).fetchall()
        lost = db.execute("SELECT count(*) AS n FROM job_attempts WHERE job_id = %s AND outcome = 'lost'",
                          (job_id,)).fetchone()
    assert [(r["name"], r["status"], r["attempts"]) for r in rows] == [
        ("one", "completed", 1), ("two", "completed", 1), ("three", "completed", 1), ("four", "completed", 1),
        ("five", "completed", 1)]
    assert lost is not None and lost["n"] == kills, "each kill is a lost attempt, run again"


SLEEPER = """
export default {
  async run(event, step) {
    const before = await step.do("before", async () => Date.now());
    await step.sleep("nap", event.payload.nap);
    const after = await step.do("after", async () => Date.now());
    return { before, after };
  }
}
"""


def test_a_sleep_resumes_on_time_and_holds_no_slot(wf: Stack) -> None:
    s = wf
    with s.client() as c:
        t0 = time.monotonic()
        r = c.post("/api/jobs", params={"wait": 30}, json={"code": SLEEPER, "payload": {"nap": "2 seconds"}})
    j = r.json()
    assert r.status_code == 201 and j["status"] == "sleeping", "?wait= answers once the run sleeps"
    assert time.monotonic() - t0 < 10
    asleep = until_status(s, j["job_id"], "sleeping", timeout=30)
    assert asleep["step_history"][1]["status"] == "sleeping"
    with s.db() as db:
        row = db.execute("SELECT count(*) AS n FROM dispatchers WHERE in_flight > 0").fetchone()
    done = until_status(s, j["job_id"], "succeeded", "failed", timeout=30)
    assert done["status"] == "succeeded", done
    nap = done["step_history"][1]
    due_ms = datetime.fromisoformat(nap["until"]).timestamp() * 1000
    slept = due_ms - done["result"]["before"]
    late = done["result"]["after"] - due_ms
    assert 1900 <= slept <= 2100, f"the nap was set for {slept} ms"
    assert 0 <= late <= 100, f"the run went on {late:.0f} ms after its sleep ended"
    assert nap["status"] == "completed" and nap["finished_at"] is not None
    assert row is not None


def test_a_thousand_sleeping_runs_hold_no_slot_of_ten_and_all_finish(wf: Stack) -> None:
    s = wf
    n = 1000
    cache = f"sleepers-{tag()}"
    ids: list[int] = []
    for k in range(0, n, 250):
        batch = [{"code": SLEEPER, "payload": {"nap": "8 seconds"}, "cache_id": cache}
                 for _ in range(k, min(n, k + 250))]
        ids += post(s, "/api/jobs/batch", {"jobs": batch})["ids"]

    def counts() -> dict[str, int]:
        with s.db() as db:
            rows = db.execute("SELECT status, count(*) AS n FROM jobs_state WHERE job_id = ANY(%s) GROUP BY 1",
                              (ids,)).fetchall()
        return {r["status"]: r["n"] for r in rows}

    wait_for(lambda: counts().get("sleeping", 0) == n, timeout=60, what=f"{n} runs asleep")
    # All of them asleep, and the ten slots free: a job submitted now runs at once.
    t0 = time.monotonic()
    quick = s.submit({"code": "return 'ran while they slept'"}, wait=10)
    assert quick["status"] == "succeeded" and time.monotonic() - t0 < 5
    assert counts().get("sleeping", 0) == n, "the quick job ran before any sleeper woke"
    with s.db() as db:
        hidden = db.execute("SELECT count(*) AS n FROM pgmq.q_jobs WHERE vt > now() AND read_ct = 0").fetchone()
    assert hidden is not None and hidden["n"] >= n, "each sleeper is a message hidden until it is due"
    seen: dict[str, int] = {}

    def finished() -> bool:
        seen.clear()
        seen.update(counts())
        return seen == {"succeeded": n}

    try:
        wait_for(finished, timeout=180, what="every sleeper finished")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {seen}") from None


WAITER = """
export default {
  async run(event, step) {
    const first = await step.do("first", async () => 1);
    try {
      const got = await step.waitForEvent("approval", { type: "approved", timeout: event.payload.timeout });
      return await step.do("last", async () => ({ first, by: got.payload.by, type: got.type }));
    } catch (e) {
      if (!event.payload.catch) throw e;
      return { timedOut: e.name, message: e.message };
    }
  }
}
"""


def test_wait_for_event_resumes_on_the_event_sent_to_it(wf: Stack) -> None:
    s = wf
    j = post(s, "/api/jobs", {"code": WAITER, "payload": {"timeout": "10 minutes"}})
    waiting = until_status(s, j["job_id"], "waiting", timeout=30)
    assert waiting["waiting_for"]["step"] == "approval" and waiting["waiting_for"]["event_type"] == "approved"
    other = post(s, f"/api/jobs/{j['job_id']}/events", {"type": "rejected", "payload": {"by": "bob"}}, status=202)
    assert other["delivered_to"] is None, "an event of another type is kept, not delivered"
    assert job(s, j["job_id"])["status"] == "waiting"
    sent = post(s, f"/api/jobs/{j['job_id']}/events", {"type": "approved", "payload": {"by": "ann"}}, status=202)
    assert sent["delivered_to"] == "approval"
    done = until_status(s, j["job_id"], "succeeded", "failed", timeout=30)
    assert done["result"] == {"first": 1, "by": "ann", "type": "approved"}
    assert [(e["type"], e["taken_by"]) for e in done["inbox"]] == [("approved", "approval"), ("rejected", None)]
    late = post(s, f"/api/jobs/{j['job_id']}/events", {"type": "approved"}, status=409)
    assert "succeeded" in late["detail"] and "not finished" in late["detail"]


def test_an_event_sent_before_the_run_waits_is_kept_for_it(wf: Stack) -> None:
    s = wf
    code = WAITER.replace('const first = await step.do("first", async () => 1);',
                          'const first = await step.do("first", async () => 1); await step.sleep("s", 1500);')
    j = post(s, "/api/jobs", {"code": code, "payload": {"timeout": "10 minutes"}})
    until_status(s, j["job_id"], "sleeping", timeout=30)
    sent = post(s, f"/api/jobs/{j['job_id']}/events", {"type": "approved", "payload": {"by": "early"}}, status=202)
    assert sent["delivered_to"] is None
    done = until_status(s, j["job_id"], "succeeded", "failed", timeout=30)
    assert done["result"] == {"first": 1, "by": "early", "type": "approved"}
    assert all(st["status"] == "completed" for st in done["step_history"])


def test_wait_for_event_times_out_without_one(wf: Stack) -> None:
    s = wf
    caught = post(s, "/api/jobs", {"code": WAITER, "payload": {"timeout": "2 seconds", "catch": True}})
    thrown = post(s, "/api/jobs", {"code": WAITER, "payload": {"timeout": 2000}})
    c = until_status(s, caught["job_id"], "succeeded", "failed", timeout=30)
    t = until_status(s, thrown["job_id"], "succeeded", "failed", timeout=30)
    assert c["status"] == "succeeded" and c["result"]["timedOut"] == "EventTimeoutError", c
    assert "approved" in c["result"]["message"] and "timeout" in c["result"]["message"]
    assert t["status"] == "failed" and t["error"]["name"] == "EventTimeoutError", t
    wait = next(st for st in t["step_history"] if st["name"] == "approval")
    assert wait["status"] == "timed_out" and wait["kind"] == "wait"


FLAKY = """
export default {
  async run(event, step) {
    const v = await step.do("flaky", { retries: { limit: event.payload.limit, delay: 400, backoff: "exponential" } },
      async (ctx) => {
        if (ctx.attempt <= event.payload.fails) throw new Error("try " + ctx.attempt + " failed");
        return "ok on try " + ctx.attempt;
      });
    return v;
  }
}
"""


def test_a_step_retries_with_its_own_backoff(wf: Stack) -> None:
    s = wf
    j = post(s, "/api/jobs", {"code": FLAKY, "payload": {"limit": 3, "fails": 3}})
    done = until_status(s, j["job_id"], "succeeded", "failed", timeout=60)
    assert done["status"] == "succeeded" and done["result"] == "ok on try 4", done
    step = done["step_history"][0]
    assert (step["attempts"], step["status"], step["config"]["retries"]["limit"]) == (4, "completed", 3)
    # Each failure hid the run until its retry: 400, 800, 1600 ms, and it ran again then.
    events = [e for e in done["events"] if e["event_id"] is not None]
    gaps = []
    for k, e in enumerate(events):
        if e["to_status"] == "retrying":
            woke = next(x for x in events[k + 1:] if x["to_status"] == "running")
            gaps.append((datetime.fromisoformat(woke["at"]) - datetime.fromisoformat(e["at"])).total_seconds() * 1000)
            assert e["detail"]["step"] == "flaky"
    assert len(gaps) == 3, events
    for gap, delay in zip(gaps, (400, 800, 1600), strict=True):
        assert delay - 50 <= gap <= delay + 1000, gaps


def test_an_exhausted_step_fails_the_run_and_the_job_retry_runs_it_afresh(wf: Stack) -> None:
    s = wf
    j = post(s, "/api/jobs", {"code": FLAKY, "payload": {"limit": 1, "fails": 9}, "max_attempts": 1})
    done = until_status(s, j["job_id"], "succeeded", "failed", "dead", timeout=60)
    assert done["status"] == "failed" and done["error"]["message"] == "try 2 failed", done
    step = done["step_history"][0]
    assert (step["status"], step["attempts"], step["error"]["message"]) == ("failed", 2, "try 2 failed")
    retried = post(s, f"/api/jobs/{j['job_id']}/retry", None, status=200)
    assert retried["status"] == "queued"
    again = until_status(s, j["job_id"], "failed", timeout=60)
    step = again["step_history"][0]
    assert (step["status"], step["attempts"]) == ("failed", 4), "the retry ran the failed step with a fresh budget"


def test_sleeping_and_waiting_runs_can_be_cancelled(wf: Stack) -> None:
    s = wf
    sleeper = post(s, "/api/jobs", {"code": SLEEPER, "payload": {"nap": "1 hour"}})
    waiter = post(s, "/api/jobs", {"code": WAITER, "payload": {"timeout": "1 hour"}})
    until_status(s, sleeper["job_id"], "sleeping")
    until_status(s, waiter["job_id"], "waiting")
    listed = get(s, "/api/jobs", status="waiting")["jobs"]
    assert waiter["job_id"] in [x["job_id"] for x in listed]
    assert sleeper["job_id"] in [x["job_id"] for x in get(s, "/api/jobs", status="sleeping")["jobs"]]
    for x in (sleeper, waiter):
        out = post(s, f"/api/jobs/{x['job_id']}/cancel", None, status=200)
        assert out["status"] == "cancelled"
    with s.db() as db:
        left = db.execute("SELECT count(*) AS n FROM pgmq.q_jobs WHERE (message->>'job_id')::bigint = ANY(%s)",
                          ([sleeper["job_id"], waiter["job_id"]],)).fetchone()
    assert left is not None and left["n"] == 0, "a cancelled run's message is gone: it never runs again"
    refused = post(s, f"/api/jobs/{waiter['job_id']}/events", {"type": "approved"}, status=409)
    assert "cancelled" in refused["detail"]


def test_bad_events_and_bad_steps_get_clear_errors(wf: Stack) -> None:
    s = wf
    missing = post(s, "/api/jobs/999999999/events", {"type": "x"}, status=404)
    assert "does not exist" in missing["detail"]
    w = post(s, "/api/jobs", {"code": WAITER, "payload": {"timeout": "1 hour"}})
    until_status(s, w["job_id"], "waiting")
    for body, says in (({}, "type"), ({"type": ""}, "type"), ({"type": "a", "payload": "\u0000"}, "NUL"),
                       ({"type": "a", "extra": 1}, "extra")):
        err = post(s, f"/api/jobs/{w['job_id']}/events", body, status=422)
        assert says in str(err), err
    with s.client() as c:
        r = c.post(f"/api/jobs/{w['job_id']}/events", content=b"{not json",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.text
    assert job(s, w["job_id"])["status"] == "waiting" and job(s, w["job_id"])["inbox"] == []
    twice = post(s, "/api/jobs", {"code": "export default { async run(e, step) { await step.do('a', async () => 1);"
                                           " await step.do('a', async () => 2); } }"})
    t = until_status(s, twice["job_id"], "failed", "succeeded")
    assert t["error"]["name"] == "WorkflowError" and "unique" in t["error"]["message"], t
    bad = post(s, "/api/jobs", {"code": "export default { async run(e, step) { await step.sleep('a', 'soon'); } }"})
    b = until_status(s, bad["job_id"], "failed", "succeeded")
    assert b["error"]["name"] == "TypeError" and "10 seconds" in b["error"]["message"], b
    huge = post(s, "/api/jobs", {"code": "export default { async run(e, step) { return await step.do('big',"
                                          " {retries: {limit: 0}}, async () => 'x'.repeat(2e6)); } }"})
    h = until_status(s, huge["job_id"], "failed", "succeeded")
    assert h["error"]["name"] == "ResultError" and "big" in h["error"]["message"], h


ORDER_FLOW = """
export default {
  async run(event, step) {
    const order = await step.do("load order", async () => ({ id: event.payload.data.order, via: event.payload.name }));
    const ok = await step.waitForEvent("payment", { type: "paid", timeout: "1 hour" });
    return await step.do("ship", async () => ({ ...order, amount: ok.payload.amount }));
  }
}
"""


def test_a_saved_workflow_subscribed_to_an_event_runs_per_publish(wf: Stack) -> None:
    """The seeds' routing: an event starts a workflow run of a saved worker, which then waits for its own event."""
    s = wf
    name = f"order.placed.{tag()}"
    wid = post(s, "/api/workers", {"name": f"order flow {tag()}", "code": ORDER_FLOW})["worker_id"]
    post(s, "/api/subscriptions", {"worker_id": wid, "pattern": name})
    published = post(s, "/api/events/publish", {"name": name, "data": {"order": 42}})
    (job_id,) = published["job_ids"]
    waiting = until_status(s, job_id, "waiting")
    assert waiting["worker_id"] == wid and waiting["waiting_for"]["event_type"] == "paid"
    post(s, f"/api/jobs/{job_id}/events", {"type": "paid", "payload": {"amount": 9.5}}, status=202)
    done = until_status(s, job_id, "succeeded", "failed")
    assert done["result"] == {"id": 42, "via": name, "amount": 9.5}, done
