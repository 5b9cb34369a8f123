// Payload editing: parse with a message that points at the line and column of the mistake.

export type JsonCheck = { ok: true; value: unknown } | { ok: false; error: string; line?: number; column?: number };

function lineCol(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  const column = pos - before.lastIndexOf("\n");
  return { line, column };
}

export function checkJson(text: string): JsonCheck {
  if (text.trim() === "") return { ok: false, error: "Payload is empty: write JSON such as {} or null" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    // V8's message has no position in every version, so find the spot ourselves.
    const found = locateJsonError(text);
    if (found) return { ok: false, error: found.message, ...lineCol(text, found.pos) };
    return { ok: false, error: (e as Error).message };
  }
}

/**
 * A strict JSON scanner used only after JSON.parse failed: returns where and why, in words a person
 * can act on. Null if it finds nothing wrong (then JSON.parse's own message is used).
 */
export function locateJsonError(text: string): { pos: number; message: string } | null {
  let i = 0;
  class Bad extends Error {
    constructor(
      readonly pos: number,
      msg: string,
    ) {
      super(msg);
    }
  }
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const describe = () => (i >= text.length ? "end of input" : `'${text[i]}'`);
  const fail = (what: string): never => {
    throw new Bad(i, `Expected ${what} but found ${describe()}`);
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail("a property name in double quotes");
        str();
        ws();
        if (text[i] !== ":") fail("':'");
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          ws();
          if (text[i] === "}") throw new Bad(i, "Trailing comma before '}'");
          continue;
        }
        if (text[i] === "}") return void i++;
        fail("',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          ws();
          if (text[i] === "]") throw new Bad(i, "Trailing comma before ']'");
          continue;
        }
        if (text[i] === "]") return void i++;
        fail("',' or ']'");
      }
    }
    if (c === '"') return str();
    const lit = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i));
    if (lit) {
      i += lit[0].length;
      return;
    }
    if (c === "'") throw new Bad(i, "Strings need double quotes, not single quotes");
    fail("a value");
  };
  const str = () => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if (text[i] === "\n") throw new Bad(i, "Unterminated string");
      i++;
    }
    if (i >= text.length) throw new Bad(start, "Unterminated string");
    i++;
  };
  try {
    value();
    ws();
    if (i < text.length) fail("end of input");
    return null;
  } catch (e) {
    if (e instanceof Bad) return { pos: e.pos, message: e.message };
    throw e;
  }
}

/** Pretty JSON for display; undefined reads as "—" and strings keep their quotes. */
export function prettyJson(v: unknown): string {
  if (v === undefined) return "—";
  try {
    return JSON.stringify(v, null, 2) ?? String(v);
  } catch {
    return String(v);
  }
}

/** One-line preview, cut to `max` characters. */
export function previewJson(v: unknown, max = 80): string {
  if (v === undefined) return "";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return clip(s, max);
}

/** `s` cut to `max` characters, an ellipsis marking the cut (e.g. a list row's result preview). */
export function clip(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
