import { describe, expect, it } from "vitest";
import {
  formatAge,
  formatDuration,
  formatFailureRate,
  formatInZone,
  formatNumber,
  formatPercent,
  formatRelative,
  formatZoned,
  shortHash,
} from "./format";

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

describe("formatZoned", () => {
  it("reads the wall clock of the zone the server wrote, whatever the browser's zone", () => {
    expect(formatZoned("2026-11-26T09:00:00+02:00")).toEqual({
      text: "Thu 2026-11-26 09:00:00",
      short: "11-26 09:00:00",
      offset: "+02:00",
    });
    expect(formatZoned("2026-11-29T23:30:05.250-0500")).toMatchObject({
      text: "Sun 2026-11-29 23:30:05",
      offset: "-05:00",
    });
    expect(formatZoned("2026-11-26T07:00:00Z")?.offset).toBe("UTC");
    expect(formatZoned("2026-11-26T07:00:00+00:00")?.offset).toBe("UTC");
    expect(formatZoned("2026-11-26T07:00")?.text).toBe("Thu 2026-11-26 07:00:00");
  });
  it("gives null for anything else", () => {
    expect(formatZoned("yesterday")).toBeNull();
    expect(formatZoned(null)).toBeNull();
    expect(formatZoned("")).toBeNull();
  });
});

describe("formatInZone", () => {
  it("shows a UTC time as a zone's wall clock", () => {
    expect(formatInZone("2026-11-26T08:42:30Z", "Asia/Kolkata")).toEqual({
      text: "Thu 2026-11-26 14:12:30",
      short: "11-26 14:12:30",
      offset: "+05:30",
    });
    expect(formatInZone("2026-11-26T23:30:00Z", "America/New_York")?.text).toBe("Thu 2026-11-26 18:30:00");
    expect(formatInZone("2026-11-26T23:30:00Z", "UTC")?.offset).toBe("UTC");
  });
  it("gives null for an unknown zone or no time", () => {
    expect(formatInZone("2026-11-26T08:42:30Z", "Mars/Olympus")).toBeNull();
    expect(formatInZone(null, "UTC")).toBeNull();
  });
});

describe("formatFailureRate", () => {
  it("says the rate and what it counts", () => {
    expect(formatFailureRate(0.125, 1, 8)).toBe("12.5% · 1 of 8");
    expect(formatFailureRate(0, 0, 3)).toBe("0% · 0 of 3");
    expect(formatFailureRate(null, 0, 0)).toBe("no runs yet");
  });
});
