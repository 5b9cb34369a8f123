/** Turning the user's code into the `job.js` module, and mapping start-up failures back to the user's lines. */

import type { JobError } from "./contract.gen";
import { USER_MODULE } from "./sandbox";

/** A top-level `import …` / `export …` statement (not `import(` or `import.meta`). */
const MODULE_RE = /^[ \t]*(?:export[\s{*]|import[\s{*"'])/m;

/** Put on the SAME line as the body's first line so line numbers in errors match the user's. */
export const WRAP_HEADER = "export default async function (payload, ctx) {";

export interface UserModule {
  source: string;
  /** True when the code was a bare function body and got WRAP_HEADER in front of it. */
  wrapped: boolean;
}

export function isModule(code: string): boolean {
  return MODULE_RE.test(code);
}

export function toUserModule(code: string): UserModule {
  if (isModule(code)) return { source: code, wrapped: false };
  return { source: WRAP_HEADER + code + "\n}", wrapped: true };
}

export async function sha256hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The Worker Loader rejects a call into a worker that cannot start with e.g.
 *   "Failed to start Worker:\nUncaught SyntaxError: Unexpected token ';'\n  at job.js:2:10"
 * Returns {name, message, stack} with the location in the user's own line/column,
 * or null when the text is not such a start-up failure.
 */
export function startupError(text: string, mod: UserModule): JobError | null {
  if (!text.includes("Failed to start Worker")) return null;
  const m = /Uncaught (?:\(in promise\) )?([A-Za-z_$][\w$]*): ([^\n]*)(?:\n\s*at ([^\n]*?):(\d+):(\d+))?/.exec(text);
  if (!m) {
    const message = text.replace(/^(?:Error: )?Failed to start Worker:\s*/, "").trim() || text;
    return { name: "StartupError", message, stack: "StartupError: " + message };
  }
  const name = m[1]!;
  const detail = m[2]!;
  const file = m[3];
  if (!file) return { name, message: detail, stack: `${name}: ${detail}` };
  // workerd reports the start-up location with a 0-based column; make it 1-based like stack traces.
  const line = Number(m[4]);
  let column = Number(m[5]) + 1;
  if (file === USER_MODULE && mod.wrapped && line === 1) column = Math.max(1, column - WRAP_HEADER.length);
  const where = file === USER_MODULE ? `line ${line}, column ${column}` : `${file}:${line}:${column}`;
  return {
    name,
    message: `${detail} (${where})`,
    stack: `${name}: ${detail}\n    at ${file}:${line}:${column}`,
  };
}
