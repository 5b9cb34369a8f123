"""Schedules, events and chains on the whole system (real Postgres, real workerd, real processes).

Work on a clock fires each tick once within a second of it, with two dispatchers; a publish fans out
once however often it is retried; the seed's dispatch body works as it is; a chain of saved workers
passes values along; and killing the dispatcher in a loop while parents finish never loses or
duplicates a child."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Stack, start_stack, stop_stack_proc
from tests.e2e.test_crash import wait_for


@pytest.fixture(scope="module")
def trig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("triggers"), DYMUNIM_MISFIRE_GRACE_S="1")
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


def worker(s: Stack, name: str, code: str) -> str:
    return str(post(s, "/api/workers", {"name": name, "code": code})["worker_id"])


def second_dispatcher(s: Stack, environ_of: int | None = None) -> subprocess.Popen[bytes]:
    env_path = Path(f"/proc/{environ_of or s.children()['dispatch']}/environ")
    env = dict(kv.split("=", 1) for kv in env_path.read_text().split("\0") if "=" in kv)
    return subprocess.Popen([sys.executable, "-m", "dymunim", "dispatch"], env=env, start_new_session=True)


def test_a_seconds_schedule_fires_each_tick_once_within_a_second_with_two_dispatchers(trig: Stack) -> None:
    s = trig
    other = second_dispatcher(s)
    try:
        time.sleep(1)
        sched = post(s, "/api/schedules", {"name": "every second", "cron": "* * * * * *",
                                           "code": "return payload.greeting + ' at ' + ctx.job_id",
                                           "payload": {"greeting": "hi"}})
        assert len(sched["upcoming"]) == 5 and sched["timezone"] == "UTC"
        time.sleep(4.5)
        paused = post(s, f"/api/schedules/{sched['schedule_id']}/pause", None, status=200)
        assert paused["paused"] is True and paused["upcoming"] == []
    finally:
        other.send_signal(signal.SIGTERM)
        assert other.wait(30) == 0
    detail = get(s, f"/api/schedules/{sched['schedule_id']}")
    fires = sorted(detail["recent_fires"], key=lambda f: f["fire_time"])
    assert len(fires) >= 3, fires
    ticks = [datetime.fromisoformat(f["fire_time"]) for f in fires]
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(ticks)), ticks
    jobs = get(s, "/api/jobs", schedule_id=sched["schedule_id"], limit=100)["jobs"]
    assert sorted(j["job_id"] for j in jobs) == sorted(f["job_id"] for f in fires), "one job per tick"
    for f in fires:
        fired = datetime.fromisoformat(f["fired_at"]) - datetime.fromisoformat(f["fire_time"])
        assert timedelta(0) <= fired < timedelta(seconds=1), f
    for j in jobs:
        done = wait_for(lambda j=j: (x := get(s, f"/api/jobs/{j['job_id']}"))["status"] == "succeeded" and x,
                        what=f"scheduled job {j['job_id']}")
        assert done["result"] == f"hi at {j['job_id']}" and done["schedule_id"] == sched["schedule_id"]
    time.sleep(2)  # paused: nothing more fires
    assert len(get(s, f"/api/schedules/{sched['schedule_id']}")["recent_fires"]) == len(fires)
    with s.client() as c:
        assert c.delete(f"/api/schedules/{sched['schedule_id']}").status_code == 200


def test_schedule_input_is_checked_with_a_clear_answer(trig: Stack) -> None:
    s = trig
    base = {"name": "bad", "code": "return 1"}
    for body, says in [
        ({**base, "cron": "61 * * * *"}, "not valid"),
        ({**base, "cron": "* * *"}, "has 3 fields"),
        ({**base, "cron": "* * * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"name": "bad", "cron": "* * * * *"}, "worker_id"),
        ({"name": "bad", "cron": "* * * * *", "worker_id": "w_nope"}, "does not exist"),
        ({**base, "cron": "* * * * *", "misfire": "sometimes"}, "misfire"),
    ]:
        with s.client() as c:
            r = c.post("/api/schedules", json=body)
        assert r.status_code == 422, (body, r.text)
        assert says in r.json()["detail"], (body, r.json())
    with s.client() as c:
        assert c.get("/api/schedules/s_nope").status_code == 404
        preview = c.get("/api/schedules/preview", params={"cron": "0 9 * * mon-fri", "timezone": "Asia/Tokyo"})
        assert preview.status_code == 200 and len(preview.json()["times"]) == 5
        assert all(t.endswith("+09:00") for t in preview.json()["times"])
        assert c.get("/api/schedules/preview", params={"cron": "nope"}).status_code == 422
    assert get(s, "/api/jobs", schedule_id="s_nope")["jobs"] == []


def test_a_schedule_changes_in_place_and_a_refused_change_changes_nothing(trig: Stack) -> None:
    s = trig
    wid = worker(s, "nightly", "return 'nightly'")
    sched = post(s, "/api/schedules", {"name": "nightly report", "cron": "0 3 * * *", "timezone": "Europe/Berlin",
                                       "code": "return 1", "paused": True})
    sid = sched["schedule_id"]
    assert sched["paused"] and sched["upcoming"] == [] and sched["code"] == "return 1"
    with s.client() as c:
        bad = c.patch(f"/api/schedules/{sid}", json={"cron": "0 25 * * *"})
        assert bad.status_code == 422 and "not valid" in bad.json()["detail"]
        assert c.patch(f"/api/schedules/{sid}", json={"name": None}).status_code == 422
        changed = c.patch(f"/api/schedules/{sid}", json={"cron": "30 4 * * mon", "worker_id": wid,
                                                          "payload": {"day": "monday"}}).json()
        resumed = c.post(f"/api/schedules/{sid}/resume").json()
        assert c.post("/api/schedules/s_nope/pause").status_code == 404
        listed = c.get("/api/schedules", params={"worker_id": wid}).json()["schedules"]
        mine = c.get(f"/api/workers/{wid}").json()["schedules"]
        deleted = c.delete(f"/api/schedules/{sid}")
        again = c.get(f"/api/schedules/{sid}")
    assert (changed["cron"], changed["worker_id"], changed["code"], changed["payload"]) == (
        "30 4 * * mon", wid, None, {"day": "monday"})
    assert resumed["paused"] is False and len(resumed["upcoming"]) == 5
    for t in resumed["upcoming"]:  # Mondays 04:30 in Berlin
        local = datetime.fromisoformat(t).astimezone(ZoneInfo("Europe/Berlin"))
        assert (local.weekday(), local.hour, local.minute) == (0, 4, 30)
    assert [x["schedule_id"] for x in listed] == [sid] == [x["schedule_id"] for x in mine]
    assert deleted.status_code == 200 and again.status_code == 404


def test_after_a_restart_skip_fires_no_missed_tick_and_catch_up_its_newest_few(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("misfire")
    s = start_stack(tmp, DYMUNIM_MISFIRE_GRACE_S="1")
    try:
        skip = post(s, "/api/schedules", {"name": "skip", "cron": "* * * * * *", "code": "return 1"})["schedule_id"]
        catch = post(s, "/api/schedules", {"name": "catch up", "cron": "* * * * * *", "code": "return 1",
                                           "misfire": "catch_up", "catch_up_limit": 2})["schedule_id"]
        time.sleep(2.5)
    finally:
        stop_stack_proc(s.proc)
    stopped = datetime.now(UTC)
    time.sleep(4)  # nothing fires: every dispatcher is down
    s = start_stack(tmp, DYMUNIM_MISFIRE_GRACE_S="1")
    try:
        def fired_again() -> bool:
            with s.db() as db:
                row = db.execute("SELECT count(DISTINCT schedule_id) AS n FROM schedule_fires WHERE fired_at > %s",
                                 (stopped,)).fetchone()
            return row is not None and row["n"] == 2

        wait_for(fired_again, timeout=30, what="both schedules fired after the restart")
        with s.db() as db:
            fired = {sid: db.execute("SELECT fire_time, fired_at FROM schedule_fires WHERE schedule_id = %s "
                                     "ORDER BY fire_time", (sid,)).fetchall() for sid in (skip, catch)}
    finally:
        stop_stack_proc(s.proc)
    last = {sid: max(r["fire_time"] for r in rows if r["fired_at"] < stopped) for sid, rows in fired.items()}
    gap = {sid: [r for r in rows if r["fire_time"] > last[sid]] for sid, rows in fired.items()}
    first_after = {sid: [r for r in rows if r["fire_time"] <= min(x["fired_at"] for x in rows)]
                   for sid, rows in gap.items()}
    # The first pass after the restart: skip fired only the tick(s) within the 1 s grace; catch_up those and
    # the two newest missed ticks before them. None of the outage's older ticks fired. (Judged by tick
    # times, not by how late the insert ran: a restarting machine is busy.)
    ticks = {sid: [r["fire_time"] for r in rows] for sid, rows in first_after.items()}
    assert 1 <= len(ticks[skip]) <= 2, (ticks, last)
    assert ticks[catch][2:] == ticks[skip] and len(ticks[catch]) == len(ticks[skip]) + 2, (ticks, last)
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(ticks[catch])), ticks
    # The outage (4 s and more) missed at least 3 ticks: skip fired none of them, catch_up only its limit.
    assert (ticks[skip][0] - last[skip]).total_seconds() >= 4, (ticks, last)
    assert (ticks[catch][0] - last[catch]).total_seconds() >= 2, (ticks, last)


def test_a_publish_fans_out_to_three_subscribers_once_even_when_retried(trig: Stack) -> None:
    s = trig
    ids = [worker(s, f"on-signup-{i}", f"return 'w{i}:' + payload.name + ':' + payload.data.user") for i in range(3)]
    for wid, pattern in zip(ids, ["user.signed_up", "user.*", "*"], strict=True):
        post(s, "/api/subscriptions", {"worker_id": wid, "pattern": pattern})
    body = {"name": "user.signed_up", "data": {"user": "ada"}, "idempotency_key": "signup-ada"}
    first = post(s, "/api/events/publish", body)
    again = post(s, "/api/events/publish", body, status=200)
    assert first["created"] is True and again["created"] is False
    assert again["event_id"] == first["event_id"] and sorted(again["job_ids"]) == sorted(first["job_ids"])
    assert len(first["job_ids"]) >= 3
    mine = get(s, "/api/jobs", event_id=first["event_id"])["jobs"]
    assert len(mine) == len(first["job_ids"])
    results = {wait_for(lambda j=j: (x := get(s, f"/api/jobs/{j}"))["status"] == "succeeded" and x,
                        what=f"subscriber job {j}")["result"] for j in first["job_ids"]}
    assert {f"w{i}:user.signed_up:ada" for i in range(3)} <= results
    with s.client() as c:
        r = c.post("/api/events/publish", json={**body, "data": {"user": "bob"}})
    assert r.status_code == 409 and r.json()["event_id"] == first["event_id"]
    listed = get(s, "/api/events/published", name="user.signed_up")["events"]
    assert [e["event_id"] for e in listed] == [first["event_id"]]
    assert sorted(j["job_id"] for j in listed[0]["jobs"]) == sorted(first["job_ids"])


def test_the_seed_dispatch_body_works_as_it_is(trig: Stack) -> None:
    s = trig
    wid = worker(s, "invoice-handler", "return payload.data.amount * 2")
    post(s, "/api/subscriptions", {"worker_id": wid, "pattern": "invoice.created"})
    body = {"events": [
        {"id": "evt_001", "idempotencyKey": "invoice-17", "traceId": "trace-17", "delayMs": 0,
         "event": {"name": "invoice.created", "data": {"amount": 21}}},
        {"id": "evt_002", "event": {"name": "invoice.created", "data": {"amount": 5}}, "delayMs": 200},
        {"id": "evt_003", "event": {"data": {}}},
        {"id": "evt_004", "delayMs": -1, "event": {"name": "invoice.created"}},
    ]}
    out = post(s, "/api/dispatch", body, status=200)
    assert out["ids"][0] is not None and out["ids"][1] is not None and out["ids"][2:] == [None, None]
    assert [(e["index"], e["id"]) for e in out["errors"]] == [(2, "evt_003"), (3, "evt_004")]
    assert "name" in out["errors"][0]["error"] and "delayMs" in out["errors"][1]["error"]
    again = post(s, "/api/dispatch", {"events": body["events"][:1]}, status=200)
    assert again["ids"] == [out["ids"][0]], "idempotencyKey: the same event"
    (job,) = get(s, "/api/jobs", event_id=out["ids"][0], worker_id=wid)["jobs"]  # (and the `*` subscriber's)
    done = wait_for(lambda: (x := get(s, f"/api/jobs/{job['job_id']}"))["status"] == "succeeded" and x,
                    what="dispatched event's job")
    assert done["result"] == 42 and done["trace_id"] == "trace-17"
    with s.client(token="wrong") as c:
        assert c.post("/api/dispatch", json=body).status_code == 401


def test_a_chain_of_three_saved_workers_passes_values_along(trig: Stack) -> None:
    s = trig
    last = worker(s, "chain-last", "return payload.total * 10")
    enqueue = "ctx.enqueue({{worker_id: '{}', payload: {{total: {}}}}}); "
    middle = worker(s, "chain-middle", enqueue.format(last, "payload.total + 5") + "return payload.total")
    first = post(s, "/api/jobs", {"code": enqueue.format(middle, "payload.n * 2") + "return 'started'",
                                  "payload": {"n": 1}, "trace_id": "chain-abc"})
    chain = wait_for(lambda: len(j := get(s, "/api/jobs", trace_id="chain-abc")["jobs"]) == 3
                     and all(x["status"] == "succeeded" for x in j) and j, timeout=30, what="the chain of 3")
    by_id = {j["job_id"]: get(s, f"/api/jobs/{j['job_id']}") for j in chain}
    root = by_id[first["job_id"]]
    (second,) = [j for j in by_id.values() if j["parent_job_id"] == root["job_id"]]
    (third,) = [j for j in by_id.values() if j["parent_job_id"] == second["job_id"]]
    assert (root["result"], second["result"], third["result"]) == ("started", 2, 70)
    assert (second["worker_id"], second["worker_version"], third["worker_id"]) == (middle, 1, last)
    kids = get(s, "/api/jobs", parent_job_id=root["job_id"])["jobs"]
    assert [k["job_id"] for k in kids] == [second["job_id"]]


def test_a_saved_worker_keeps_its_versions_and_a_job_the_version_it_ran(trig: Stack) -> None:
    s = trig
    wid = worker(s, "versioned", "throw new Error('v1 failed')")
    with s.client() as c:
        v1 = c.post(f"/api/workers/{wid}/run", params={"wait": 20}, json={"max_attempts": 1}).json()
        w = c.post(f"/api/workers/{wid}/versions", json={"code": "return 'v2'"}).json()
        same = c.post(f"/api/workers/{wid}/versions", json={"code": "return 'v2'"}).json()
        v2 = c.post(f"/api/workers/{wid}/run", params={"wait": 20}, json={}).json()
        old = c.get(f"/api/workers/{wid}/versions/1").json()
        assert c.get(f"/api/workers/{wid}/versions/9").status_code == 404
        assert c.get("/api/workers/w_nope/versions/1").status_code == 404
        listed = c.get("/api/workers", params={"q": "versioned"}).json()["workers"]
        retried = c.post(f"/api/jobs/{v1['job_id']}/retry")
    assert (v1["status"], v1["worker_version"]) == ("failed", 1)
    assert (w["version"], same["version"], [v["version"] for v in same["versions"]]) == (2, 2, [2, 1])
    assert (v2["result"], v2["worker_version"]) == ("v2", 2)
    assert old["code"] == "throw new Error('v1 failed')"
    assert [x["worker_id"] for x in listed] == [wid]
    assert (listed[0]["recent_finished"], listed[0]["recent_failed"], listed[0]["failure_rate"]) == (2, 1, 0.5)
    # A retry runs the code the job ran first, not the worker's newest version.
    assert retried.status_code == 200, retried.text
    again = wait_for(lambda: (x := get(s, f"/api/jobs/{v1['job_id']}"))["status"] == "failed" and x["attempts"] > 1
                     and x, what="the retried job failed again")
    assert again["error"]["message"] == "v1 failed" and again["worker_version"] == 1
    jobs = get(s, "/api/jobs", worker_id=wid)["jobs"]
    assert sorted(j["worker_version"] for j in jobs) == [1, 2]


@pytest.fixture(scope="module")
def chain_crash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = start_stack(tmp_path_factory.mktemp("chain-crash"))
    yield s
    stop_stack_proc(s.proc)


def test_killing_the_dispatcher_in_a_loop_never_loses_or_duplicates_a_child(chain_crash: Stack) -> None:
    s = chain_crash
    parents = 40
    code = ("await new Promise(r => setTimeout(r, 100 + 100 * (payload.i % 5)));"
            "ctx.enqueue({code: 'return payload.i * 100 + payload.k', payload: {i: payload.i, k: 0}});"
            "ctx.enqueue({code: 'return payload.i * 100 + payload.k', payload: {i: payload.i, k: 1}});"
            "return payload.i")
    # `up` restarts a dispatcher that dies, but gives up on one that dies within seconds of starting again
    # and again; so its own is frozen (SIGSTOP) and the test starts and SIGKILLs dispatchers of its own,
    # each once it has made progress: mid-run, mid-record, between a parent's success and its children.
    own = s.children()["dispatch"]
    os.kill(own, signal.SIGSTOP)

    def progress() -> int:
        with s.db() as db:
            row = db.execute("SELECT count(*) AS n FROM jobs_state WHERE (job_id = ANY(%s) OR parent_job_id = ANY(%s))"
                             " AND status <> 'queued'", (ids, ids)).fetchone()
        return int(row["n"]) if row else 0

    kills = 0
    try:
        ids = post(s, "/api/jobs/batch", {"jobs": [{"code": code, "payload": {"i": i}, "max_attempts": 20}
                                                   for i in range(parents)]})["ids"]
        for cycle in range(6):
            before = progress()
            d = second_dispatcher(s, environ_of=own)
            try:
                wait_for(lambda before=before: progress() > before, timeout=15, what="the dispatcher's progress")
                time.sleep(0.1 + 0.1 * (cycle % 4))
                kills += 1
            except AssertionError:
                pass  # nothing left that it could take (the rest is hidden until the visibility timeout)
            finally:
                d.kill()
                d.wait(10)
    finally:
        os.kill(own, signal.SIGCONT)  # it finishes what the killed ones left behind
    assert kills >= 3
    seen: dict[str, int] = {}

    def settled() -> bool:
        with s.db() as db:
            rows = db.execute("SELECT status, parent_job_id IS NULL AS parent, count(*) AS n FROM jobs_state "
                              "WHERE job_id = ANY(%s) OR parent_job_id = ANY(%s) GROUP BY 1, 2", (ids, ids)).fetchall()
        seen.clear()
        seen.update({f"{'parents' if r['parent'] else 'children'} {r['status']}": r["n"] for r in rows})
        return seen == {"parents succeeded": parents, "children succeeded": 2 * parents}

    try:
        wait_for(settled, timeout=120, what="every parent and child succeeded")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {seen}") from None
    with s.db() as db:
        lost = db.execute("SELECT count(*) AS n FROM job_attempts WHERE outcome = 'lost' AND job_id IN "
                          "(SELECT job_id FROM jobs_state WHERE job_id = ANY(%s) OR parent_job_id = ANY(%s))",
                          (ids, ids)).fetchone()
    assert lost is not None and lost["n"] > 0, "the kills landed while jobs ran"
    with s.db() as db:
        kids = db.execute("SELECT parent_job_id, result FROM jobs_state WHERE parent_job_id = ANY(%s)",
                          (ids,)).fetchall()
    by_parent: dict[int, list[int]] = {}
    for k in kids:
        by_parent.setdefault(k["parent_job_id"], []).append(k["result"])
    parent_i = {jid: i for i, jid in enumerate(ids)}
    assert {p: sorted(r) for p, r in by_parent.items()} == {jid: [i * 100, i * 100 + 1] for jid, i in parent_i.items()}
