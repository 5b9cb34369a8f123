import { describe, expect, it } from "vitest";
import { checkJson, clip, previewJson, prettyJson } from "./json";

describe("checkJson", () => {
  it("accepts any JSON value", () => {
    expect(checkJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(checkJson("null")).toEqual({ ok: true, value: null });
    expect(checkJson(" 42 ")).toEqual({ ok: true, value: 42 });
  });
  it("explains empty input", () => {
    const r = checkJson("   ");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/empty/);
  });
  it("points at the line of a mistake", () => {
    const r = checkJson('{\n  "a": 1,\n  "b": }');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.line).toBe(3);
      expect(r.column).toBeGreaterThan(0);
    }
  });
});

describe("display", () => {
  it("pretty prints and previews", () => {
    expect(prettyJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(prettyJson(undefined)).toBe("—");
    expect(prettyJson("x")).toBe('"x"');
    expect(previewJson({ long: "x".repeat(100) }, 20)).toHaveLength(20);
    expect(previewJson(undefined)).toBe("");
  });
  it("clips a list row's result preview (JSON text already)", () => {
    expect(clip('{"a": 1}', 20)).toBe('{"a": 1}');
    expect(clip("x".repeat(30), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("locateJsonError", () => {
  it.each([
    ['{"a": 1,}', "Trailing comma before '}'", 1, 9],
    ["{a: 1}", "Expected a property name in double quotes but found 'a'", 1, 2],
    ["{'a': 1}", "Expected a property name in double quotes but found '''", 1, 2],
    ['[1, 2', "Expected ',' or ']' but found end of input", 1, 6],
    ['{"a": tru}', "Expected a value but found 't'", 1, 7],
    ['{"a": 1}\nx', "Expected end of input but found 'x'", 2, 1],
    ['"abc', "Unterminated string", 1, 1],
  ])("%s", (text, message, line, column) => {
    const r = checkJson(text);
    expect(r).toEqual({ ok: false, error: message, line, column });
  });
});
