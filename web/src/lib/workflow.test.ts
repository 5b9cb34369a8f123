import { describe, expect, it } from "vitest";
import type { Step } from "./types";
import {
  currentSleep,
  describeConfig,
  formatCountdown,
  isWorkflow,
  layoutWaterfall,
  offsetLabel,
  type RunTimes,
  tickSpacing,
  ticks,
} from "./workflow";

const T0 = Date.parse("2026-11-25T12:00:00Z");
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

function step(name: string, seq: number, over: Partial<Step> = {}): Step {
  return {
    name,
    seq,
    kind: "do",
    status: "completed",
    result: null,
    error: null,
    attempts: 1,
    config: null,
    until: null,
    event_type: null,
    started_at: at(0),
    finished_at: at(0),
    duration_ms: 0,
    logs: null,
    ...over,
  };
}

function run(over: Partial<RunTimes> = {}): RunTimes {
  return { status: "running", created_at: at(0), started_at: at(0), finished_at: null, run_at: null, ...over };
}

describe("isWorkflow", () => {
  it("is a workflow when it counts steps, even none yet", () => {
    expect(isWorkflow({ steps: 0, step_history: null })).toBe(true);
    expect(isWorkflow({ steps: null, step_history: [step("a", 1)] })).toBe(true);
    expect(isWorkflow({ steps: null, step_history: null })).toBe(false);
    expect(isWorkflow({ steps: null, step_history: [] })).toBe(false);
  });
});

describe("layoutWaterfall", () => {
  it("puts a finished run's steps on the axis from creation to the job's end", () => {
    const w = layoutWaterfall(
      run({ status: "succeeded", finished_at: at(1000) }),
      [
        step("b", 2, { started_at: at(500), finished_at: at(1000) }),
        step("a", 1, { started_at: at(100), finished_at: at(300) }),
      ],
      T0 + 60_000, // now is long after: a finished run's axis ignores it
    );
    expect(w.start).toBe(T0);
    expect(w.end).toBe(T0 + 1000);
    expect(w.bars.map((b) => [b.name, b.left, b.width, b.ongoing])).toEqual([
      ["a", 10, 20, false],
      ["b", 50, 50, false],
    ]);
    expect(w.nowAt).toBeNull();
  });

  it("runs a wait under way to now, ongoing", () => {
    const w = layoutWaterfall(
      run({ status: "waiting" }),
      [
        step("first", 1, { started_at: at(0), finished_at: at(200) }),
        step("approval", 2, { kind: "wait", status: "waiting", started_at: at(200), finished_at: null, until: at(600_000) }),
      ],
      T0 + 1000,
    );
    // A wait's timeout does not stretch the axis: it may be days away.
    expect(w.end).toBe(T0 + 1000);
    const wait = w.bars[1];
    expect(wait).toMatchObject({ name: "approval", status: "waiting", ongoing: true, left: 20, width: 80, planned: 0 });
    expect(w.nowAt).toBeNull();
  });

  it("shows a sleep's time still ahead as planned, with a now marker", () => {
    const w = layoutWaterfall(
      run({ status: "sleeping" }),
      [step("nap", 1, { kind: "sleep", status: "sleeping", started_at: at(0), finished_at: null, until: at(4000) })],
      T0 + 1000,
    );
    expect(w.end).toBe(T0 + 4000);
    expect(w.bars[0]).toMatchObject({ left: 0, width: 25, planned: 75, ongoing: true, plannedEndMs: T0 + 4000 });
    expect(w.nowAt).toBe(25);
  });

  it("ends a step left open at the job's end when the job ended around it", () => {
    const w = layoutWaterfall(
      run({ status: "cancelled", finished_at: at(2000) }),
      [step("nap", 1, { kind: "sleep", status: "sleeping", started_at: at(1000), finished_at: null, until: at(60_000) })],
      T0 + 5000,
    );
    expect(w.end).toBe(T0 + 2000);
    expect(w.bars[0]).toMatchObject({ left: 50, width: 50, planned: 0, ongoing: false });
  });

  it("adds a bar for the call in flight from the last finished step", () => {
    const w = layoutWaterfall(
      run({ status: "running", started_at: at(100) }),
      [step("a", 1, { started_at: at(100), finished_at: at(400) })],
      T0 + 1000,
    );
    expect(w.bars.map((b) => b.key)).toEqual(["a", "·running"]);
    expect(w.bars[1]).toMatchObject({ kind: "run", status: "running", left: 40, width: 60, ongoing: true });
  });

  it("has a usable axis with no steps at all", () => {
    const w = layoutWaterfall(run({ status: "queued", started_at: null }), [], T0);
    expect(w.bars).toEqual([]);
    expect(w.end).toBeGreaterThan(w.start);
    expect(w.ticks[0]).toEqual({ at: 0, label: "0" });
  });
});

describe("ticks", () => {
  it.each([
    [1000, 200],
    [900, 200],
    [60_000, 15_000],
    [80_000, 30_000],
    [600_000, 120_000],
    [3 * 86_400_000, 86_400_000],
    [30 * 86_400_000, 6 * 86_400_000],
  ])("spacing for a %i ms axis is %i ms", (span, spacing) => {
    expect(tickSpacing(span)).toBe(spacing);
  });

  it("labels each tick with its offset and places it by percent", () => {
    expect(ticks(1000)).toEqual([
      { at: 0, label: "0" },
      { at: 20, label: "+200 ms" },
      { at: 40, label: "+400 ms" },
      { at: 60, label: "+600 ms" },
      { at: 80, label: "+800 ms" },
      { at: 100, label: "+1 s" },
    ]);
  });
});

describe("offsetLabel", () => {
  it.each([
    [0, "0"],
    [250, "+250 ms"],
    [1500, "+1.5 s"],
    [30_000, "+30 s"],
    [120_000, "+2m"],
    [90_000, "+1m 30s"],
    [3_600_000, "+1h"],
    [5_400_000, "+1h 30m"],
    [2 * 86_400_000, "+2d"],
  ])("%i -> %s", (t, out) => expect(offsetLabel(t)).toBe(out));
});

describe("formatCountdown", () => {
  it.each([
    [-5, "0:00"],
    [0, "0:00"],
    [400, "0:01"],
    [42_000, "0:42"],
    [725_000, "12:05"],
    [3_723_000, "1:02:03"],
    [3 * 86_400_000 + 4 * 3_600_000, "3d 4h"],
  ])("%i ms -> %s", (left, out) => expect(formatCountdown(left)).toBe(out));
});

describe("currentSleep", () => {
  it("names the sleeping step and its end", () => {
    const job = {
      ...run({ status: "sleeping", run_at: at(9000) }),
      step_history: [
        step("a", 1),
        step("nap", 2, { kind: "sleep", status: "sleeping", until: at(5000), finished_at: null }),
      ],
    };
    expect(currentSleep(job)).toEqual({ step: "nap", until: at(5000) });
  });

  it("falls back to the job's run_at, and is null unless sleeping", () => {
    expect(currentSleep({ ...run({ status: "sleeping", run_at: at(9000) }), step_history: [] })).toEqual({
      step: null,
      until: at(9000),
    });
    expect(currentSleep({ ...run(), step_history: [] })).toBeNull();
  });
});

describe("describeConfig", () => {
  it("says retries, delay, backoff and timeout", () => {
    expect(
      describeConfig({ retries: { limit: 3, delay_ms: 1000, backoff: "exponential" }, timeout_ms: 30_000 }),
    ).toBe("3 retries · 1 s exponential · timeout 30 s");
    expect(describeConfig({ retries: { limit: 1, delay_ms: 500, backoff: "constant" } })).toBe("1 retry · 500 ms constant");
    expect(describeConfig({ retries: { limit: 0, delay_ms: 500, backoff: "constant" } })).toBe("0 retries");
  });

  it("reads nothing it cannot trust", () => {
    expect(describeConfig(null)).toBe("");
    expect(describeConfig({ retries: "lots", timeout_ms: "soon" })).toBe("");
  });
});
