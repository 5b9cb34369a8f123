import { describe, expect, it } from "vitest";
import { bucketThroughput } from "./series";

const now = Date.parse("2026-11-25T12:30:20Z");

describe("bucketThroughput", () => {
  it("fills every minute of a 15 minute range", () => {
    const b = bucketThroughput([{ minute: "2026-11-25T12:30:00Z", succeeded: 4, failed: 1 }], 15, now);
    expect(b).toHaveLength(15);
    expect(b.at(-1)).toEqual({ start: Date.parse("2026-11-25T12:30:00Z"), succeeded: 4, failed: 1 });
    expect(b.slice(0, -1).every((x) => x.succeeded === 0 && x.failed === 0)).toBe(true);
  });
  it("merges minutes into wider buckets for long ranges", () => {
    const pts = [
      { minute: "2026-11-25T12:25:00Z", succeeded: 1, failed: 0 },
      { minute: "2026-11-25T12:26:00Z", succeeded: 2, failed: 3 },
    ];
    const b = bucketThroughput(pts, 1440, now);
    expect(b).toHaveLength(60);
    expect(b.reduce((a, x) => a + x.succeeded, 0)).toBe(3);
    expect(b.reduce((a, x) => a + x.failed, 0)).toBe(3);
  });
  it("drops points outside the range and bad timestamps", () => {
    const b = bucketThroughput(
      [
        { minute: "2026-11-24T12:00:00Z", succeeded: 9, failed: 9 },
        { minute: "garbage", succeeded: 9, failed: 9 },
      ],
      60,
      now,
    );
    expect(b).toHaveLength(60);
    expect(b.every((x) => x.succeeded === 0)).toBe(true);
  });
});
