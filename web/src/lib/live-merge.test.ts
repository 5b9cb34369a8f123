import { describe, expect, it } from "vitest";
import { applyEventToJob, applyEventToList, type InfiniteJobs, parseLiveEvent } from "./live-merge";
import type { Job, JobSummary, LiveEvent } from "./types";

/** A row of a job list, as GET /api/jobs answers it. */
function summary(id: number, over: Partial<JobSummary> = {}): JobSummary {
  return {
    job_id: id,
    status: "queued",
    error: null,
    result_preview: null,
    code_hash: "h",
    language: "javascript",
    worker_id: null,
    cache_id: null,
    attempts: 0,
    max_attempts: 3,
    timeout_ms: 30000,
    retry_on_error: false,
    idempotency_key: null,
    trace_id: null,
    worker_version: null,
    schedule_id: null,
    event_id: null,
    parent_job_id: null,
    steps: null,
    run_at: null,
    created_at: "2026-11-25T12:00:00Z",
    updated_at: "2026-11-25T12:00:00Z",
    started_at: null,
    finished_at: null,
    duration_ms: null,
    cold_start: null,
    ...over,
  };
}

/** One job with everything it holds, as GET /api/jobs/{id} answers it. */
function job(id: number, over: Partial<Job> = {}): Job {
  const { result_preview: _, ...row } = summary(id);
  return {
    ...row,
    job_type: "dynamic_worker",
    payload: {},
    result: null,
    code: "return 1",
    execution_logs: [],
    logs_truncated: false,
    msg_id: 1,
    events: null,
    attempt_history: null,
    ...over,
  } as Job;
}

function ev(id: number, status: LiveEvent["status"], attempt: number, at = "2026-11-25T12:00:01Z"): LiveEvent {
  return { event_id: 100 + attempt, job_id: id, status, from: null, attempt, at };
}

const list = (...jobs: JobSummary[]): InfiniteJobs => ({ pages: [{ jobs, next_cursor: null }], pageParams: [null] });

describe("parseLiveEvent", () => {
  it("parses the server's shape", () => {
    const e = parseLiveEvent('{"event_id":7,"job_id":3,"status":"running","from":"queued","attempt":1,"at":"x"}');
    expect(e).toEqual({ event_id: 7, job_id: 3, status: "running", from: "queued", attempt: 1, at: "x" });
  });
  it("accepts the table's column names too", () => {
    const e = parseLiveEvent('{"event_id":8,"job_id":3,"to_status":"failed","from_status":"running","attempt":2,"at":"y"}');
    expect(e).toEqual({ event_id: 8, job_id: 3, status: "failed", from: "running", attempt: 2, at: "y" });
  });
  it("ignores junk", () => {
    expect(parseLiveEvent('{"type":"resync"}')).toBeNull();
    expect(parseLiveEvent("not json")).toBeNull();
    expect(parseLiveEvent('{"job_id":"abc","status":"running"}')).toBeNull();
    expect(parseLiveEvent("null")).toBeNull();
  });
});

describe("applyEventToJob", () => {
  it("moves the status forward", () => {
    const j = applyEventToJob(job(1), ev(1, "running", 1));
    expect(j.status).toBe("running");
    expect(j.attempts).toBe(1);
    expect(j.started_at).toBe("2026-11-25T12:00:01Z");
    const done = applyEventToJob(j, ev(1, "succeeded", 1, "2026-11-25T12:00:02Z"));
    expect(done.status).toBe("succeeded");
    expect(done.finished_at).toBe("2026-11-25T12:00:02Z");
  });
  it("ignores an older attempt and an older event", () => {
    const j = job(1, { status: "running", attempts: 2, updated_at: "2026-11-25T12:00:05Z" });
    expect(applyEventToJob(j, ev(1, "failed", 1))).toBe(j);
    expect(applyEventToJob(j, ev(1, "queued", 2, "2026-11-25T12:00:04Z"))).toBe(j);
  });
  it("leaves other jobs alone", () => {
    const j = job(2);
    expect(applyEventToJob(j, ev(1, "running", 1))).toBe(j);
  });
});

describe("applyEventToList", () => {
  it("patches a listed job in place", () => {
    const data = list(summary(2), summary(1));
    const r = applyEventToList(data, ev(1, "running", 1), {});
    expect(r?.refetch).toBe(false);
    expect(r?.data.pages[0].jobs[1].status).toBe("running");
    expect(r?.data.pages[0].jobs[0]).toBe(data.pages[0].jobs[0]);
  });
  it("asks for a refetch for a new job that belongs in the list", () => {
    const data = list(summary(2), summary(1));
    expect(applyEventToList(data, ev(3, "queued", 0), {})?.refetch).toBe(true);
    expect(applyEventToList(data, ev(3, "queued", 0), { status: "queued" })?.refetch).toBe(true);
    expect(applyEventToList(data, ev(3, "queued", 0), { status: "failed" })?.refetch).toBe(false);
  });
  it("does not refetch for an old job that is not loaded", () => {
    expect(applyEventToList(list(summary(9)), ev(3, "running", 1), {})?.refetch).toBe(false);
  });
  it("refetches a filtered list a job has left", () => {
    const r = applyEventToList(list(summary(4, { status: "queued" })), ev(4, "running", 1), { status: "queued" });
    expect(r?.refetch).toBe(true);
  });
  it("returns null without data", () => {
    expect(applyEventToList(undefined, ev(1, "running", 1), {})).toBeNull();
  });
});
