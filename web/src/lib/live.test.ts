import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { throttleByKey } from "./live";

describe("throttleByKey", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs at most once per window per key", () => {
    const calls: string[] = [];
    const t = throttleByKey(1000, (k) => calls.push(k));
    t("a");
    t("a");
    t("b");
    vi.advanceTimersByTime(0);
    expect(calls).toEqual(["a", "b"]);
    t("a");
    t("a");
    vi.advanceTimersByTime(500);
    expect(calls).toEqual(["a", "b"]);
    vi.advanceTimersByTime(600);
    expect(calls).toEqual(["a", "b", "a"]);
  });
});
