import { describe, expect, it } from "vitest";
import { formatAge, formatDuration, formatNumber, formatPercent, formatRelative, shortHash } from "./format";

describe("formatDuration", () => {
  it.each([
    [null, "—"],
    [undefined, "—"],
    [Number.NaN, "—"],
    [0.42, "0.42 ms"],
    [3.25, "3.3 ms"],
    [12.3, "12 ms"],
    [999.4, "999 ms"],
    [1530, "1.53 s"],
    [12_400, "12.4 s"],
    [95_000, "1m 35s"],
    [4_000_000, "1h 6m"],
    [-5, "0 ms"],
    [0, "0 ms"],
  ])("%s -> %s", (ms, out) => {
    expect(formatDuration(ms as number | null | undefined)).toBe(out);
  });
});

describe("formatAge", () => {
  it.each([
    [null, "—"],
    [0, "0s"],
    [59.6, "1m"],
    [59.4, "59s"],
    [180, "3m"],
    [7200, "2h"],
    [7500, "2h 5m"],
    [3 * 86400 + 5, "3d"],
  ])("%s -> %s", (s, out) => {
    expect(formatAge(s as number | null)).toBe(out);
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");
  it("reads past and future", () => {
    expect(formatRelative("2026-11-25T11:59:58Z", now)).toBe("just now");
    expect(formatRelative("2026-11-25T11:59:30Z", now)).toBe("30s ago");
    expect(formatRelative("2026-11-25T11:55:00Z", now)).toBe("5m ago");
    expect(formatRelative("2026-11-25T09:00:00Z", now)).toBe("3h ago");
    expect(formatRelative("2026-11-25T12:00:40Z", now)).toBe("in 40s");
  });
  it("survives bad input", () => {
    expect(formatRelative(null, now)).toBe("—");
    expect(formatRelative("not a date", now)).toBe("—");
  });
});

describe("numbers", () => {
  it("formats counts, rates and hashes", () => {
    expect(formatNumber(1234)).toBe("1,234");
    expect(formatNumber(12_500)).toBe("12.5k");
    expect(formatNumber(3_000_000)).toBe("3M");
    expect(formatPercent(null)).toBe("—");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0.975)).toBe("97.5%");
    expect(shortHash("abcdef0123456789", 6)).toBe("abcdef");
    expect(shortHash(null)).toBe("—");
  });
});
