import { describe, expect, it } from "vitest";
import { checkPattern, nextRun, upcomingRuns } from "./schedules";
import type { Schedule } from "./types";

function schedule(id: string, over: Partial<Schedule> = {}): Schedule {
  return {
    schedule_id: id,
    name: id,
    cron: "* * * * *",
    timezone: "UTC",
    worker_id: null,
    code_hash: "h",
    language: "javascript",
    cache_id: null,
    payload: null,
    max_attempts: null,
    timeout_ms: null,
    retry_on_error: false,
    misfire: "skip",
    catch_up_limit: 10,
    paused: false,
    next_fire_at: "2026-11-26T10:00:00Z",
    last_fire_at: null,
    created_at: "2026-11-26T09:00:00Z",
    updated_at: "2026-11-26T09:00:00Z",
    code: null,
    upcoming: [],
    recent_fires: null,
    ...over,
  };
}

const now = Date.parse("2026-11-26T10:00:30Z");

describe("upcomingRuns", () => {
  it("merges every active schedule's times, soonest first, without past ones", () => {
    const a = schedule("a", { upcoming: ["2026-11-26T10:00:00Z", "2026-11-26T10:01:00Z", "2026-11-26T10:02:00Z"] });
    const b = schedule("b", { upcoming: ["2026-11-26T10:00:40+01:00", "2026-11-26T10:01:30Z"] });
    const paused = schedule("p", { paused: true, upcoming: ["2026-11-26T10:00:45Z"] });
    const runs = upcomingRuns([a, b, paused], now, 3);
    expect(runs.map((r) => [r.schedule.schedule_id, r.at])).toEqual([
      ["a", "2026-11-26T10:01:00Z"],
      ["b", "2026-11-26T10:01:30Z"],
      ["a", "2026-11-26T10:02:00Z"],
    ]);
  });
  it("takes at most perSchedule of each", () => {
    const a = schedule("a", { upcoming: ["2026-11-26T10:01:00Z", "2026-11-26T10:01:10Z", "2026-11-26T10:01:20Z"] });
    const b = schedule("b", { upcoming: ["2026-11-26T11:00:00Z", "2026-11-26T12:00:00Z"] });
    expect(upcomingRuns([a, b], now, 3, 1).map((r) => r.schedule.schedule_id)).toEqual(["a", "b"]);
  });
  it("is empty without schedules", () => {
    expect(upcomingRuns([], now, 5)).toEqual([]);
  });
});

describe("nextRun", () => {
  it("skips times already past and says nothing for a paused schedule", () => {
    expect(nextRun(schedule("a", { upcoming: ["2026-11-26T10:00:00Z", "2026-11-26T10:01:00Z"] }), now)).toBe(
      "2026-11-26T10:01:00Z",
    );
    expect(nextRun(schedule("a", { upcoming: [] }), now)).toBe("2026-11-26T10:00:00Z");
    expect(nextRun(schedule("a", { paused: true }), now)).toBeNull();
  });
});

describe("checkPattern", () => {
  it("takes what the server takes", () => {
    expect(checkPattern("order.paid")).toBeNull();
    expect(checkPattern("order.*")).toBeNull();
    expect(checkPattern("*")).toBeNull();
    expect(checkPattern("a/b:c_d-e")).toBeNull();
  });
  it("says what is wrong otherwise", () => {
    expect(checkPattern("")).toMatch(/event name/);
    expect(checkPattern("*.paid")).toMatch(/only end/);
    expect(checkPattern("order paid")).toMatch(/letters/);
  });
});
