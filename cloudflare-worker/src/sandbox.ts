/**
 * Source text of the modules that run INSIDE each Dynamic Worker, next to the
 * user's module. They are plain JavaScript strings because the Worker Loader
 * takes module source text.
 *
 *   __dymunim_main.js     main module: imports the capture module FIRST, then
 *                         (dynamically, on the first call) the user's module;
 *                         its default export is a WorkerEntrypoint the parent
 *                         calls over RPC: `run(optsJson)` answers one call's
 *                         outcome JSON, `runMany(optsListJson, deliver)` runs
 *                         many calls of the same code and hands outcomes back
 *                         as they finish.
 *   __dymunim_capture.js  console capture (per call, via AsyncLocalStorage so
 *                         concurrent calls in one cached isolate keep their own
 *                         logs) and a `fetch` that refuses with a clear message.
 *   job.js                the user's code (see code.ts).
 *
 * Nothing here may contain a backtick or a dollar-brace: these are template
 * literals.
 */

export const USER_MODULE = "job.js";
export const MAIN_MODULE = "__dymunim_main.js";
export const CAPTURE_MODULE = "__dymunim_capture.js";

/** Compatibility settings of every Dynamic Worker. nodejs_compat gives AsyncLocalStorage (and node: built-ins to users). */
export const DYNAMIC_COMPAT_DATE = "2025-09-01";
export const DYNAMIC_COMPAT_FLAGS = ["nodejs_compat"];

const CAPTURE_SOURCE = String.raw`
import { AsyncLocalStorage } from "node:async_hooks";

export const als = new AsyncLocalStorage();
const encoder = new TextEncoder();

/**
 * Drops the executor's own frames from a stack and, for a wrapped bare body
 * (its first line starts with the wrapper header), shifts line-1 columns back
 * to the user's columns.
 */
export function cleanStack(stack, wrapOffset) {
  return String(stack).split("\n").filter((l) => !l.includes("__dymunim_")).map((l) =>
    wrapOffset ? l.replace(/\bjob\.js:1:(\d+)/g, (m, c) => "job.js:1:" + Math.max(1, Number(c) - wrapOffset)) : l
  ).join("\n");
}

function formatArg(a, wrapOffset) {
  if (typeof a === "string") return a;
  if (a instanceof Error) {
    return typeof a.stack === "string" && a.stack ? cleanStack(a.stack, wrapOffset) : String(a.name) + ": " + String(a.message);
  }
  if (a === undefined) return "undefined";
  if (typeof a === "function") return "[Function " + (a.name || "(anonymous)") + "]";
  if (typeof a === "symbol" || typeof a === "bigint") return a.toString() + (typeof a === "bigint" ? "n" : "");
  if (a === null || typeof a !== "object") return String(a);
  try {
    const s = JSON.stringify(a, (k, v) => (typeof v === "bigint" ? v.toString() + "n" : v));
    return s === undefined ? String(a) : s;
  } catch {
    try { return String(a); } catch { return "[object]"; }
  }
}

export function newLogStore(maxLines, maxBytes, wrapOffset) {
  return { logs: [], bytes: 0, dropped: 0, maxLines, maxBytes, wrapOffset, closed: false };
}

function push(store, level, args) {
  if (store.closed) return;
  if (store.dropped > 0 || store.logs.length >= store.maxLines) { store.dropped++; return; }
  let message;
  try { message = Array.prototype.map.call(args, (a) => formatArg(a, store.wrapOffset)).join(" "); } catch (e) { message = "[unformattable log line]"; }
  const size = encoder.encode(message).length;
  if (store.bytes + size > store.maxBytes) { store.dropped++; return; }
  store.bytes += size;
  store.logs.push({ level, at: new Date().toISOString(), message });
}

/** Closes the store and returns its logs, with the truncation marker if lines were dropped. */
export function finishLogs(store) {
  store.closed = true;
  const logs = store.logs.slice();
  if (store.dropped > 0) {
    logs.push({
      level: "warn",
      at: new Date().toISOString(),
      message: "[dymunim] logs truncated: " + store.dropped + " more lines dropped (limit " +
        store.maxLines + " lines / " + store.maxBytes + " bytes)",
    });
  }
  return { logs, truncated: store.dropped > 0 };
}

const LEVELS = { log: "log", info: "info", warn: "warn", error: "error", debug: "debug", trace: "debug" };
for (const method of Object.keys(LEVELS)) {
  const level = LEVELS[method];
  console[method] = function () {
    const store = als.getStore();
    if (store) push(store, level, arguments);
    // Lines outside any call (timers that outlive their call) are dropped.
  };
}

export class NetworkBlockedError extends Error {
  constructor(message) { super(message); this.name = "NetworkBlockedError"; }
}

function describeTarget(input) {
  try {
    if (typeof input === "string") return input;
    if (input && typeof input.url === "string") return input.url;
    return String(input);
  } catch { return "?"; }
}

// globalOutbound: null is the real sandbox; this only gives a clearer message.
globalThis.fetch = function fetch(input) {
  return Promise.reject(new NetworkBlockedError(
    "network is blocked: dymunim jobs cannot make outbound requests (fetch to " + describeTarget(input) + " refused)"));
};
`;

const MAIN_SOURCE = String.raw`
import { WorkerEntrypoint } from "cloudflare:workers";
import { als, newLogStore, finishLogs, cleanStack } from "./__dymunim_capture.js";

class TimeoutError extends Error { constructor(m) { super(m); this.name = "TimeoutError"; } }
class ResultError extends Error { constructor(m) { super(m); this.name = "ResultError"; } }
class ResponseError extends Error { constructor(m) { super(m); this.name = "ResponseError"; } }
class ContractError extends Error { constructor(m) { super(m); this.name = "ContractError"; } }

const encoder = new TextEncoder();
let userModule = null;

function toError(e, wrapOffset) {
  if (e instanceof Error || (e && typeof e === "object" && typeof e.message === "string" && "stack" in e)) {
    let name = "Error", message = "", stack = "";
    try { name = String(e.name || "Error"); } catch {}
    try { message = String(e.message); } catch {}
    try { stack = typeof e.stack === "string" ? cleanStack(e.stack, wrapOffset) : name + ": " + message; } catch {}
    return { name, message, stack };
  }
  let message;
  try { message = String(e); } catch { message = Object.prototype.toString.call(e); }
  return { name: "Error", message, stack: "Error: " + message };
}

const HINT = "; return plain objects, arrays, strings, numbers, booleans or null";

function serialiseResult(value, maxBytes) {
  if (value === undefined) return "null";
  const t = typeof value;
  if (t === "function" || t === "symbol" || t === "bigint") {
    throw new ResultError("result is not JSON-serialisable: the result is a " + t + HINT);
  }
  let json;
  try {
    json = JSON.stringify(value, function (key, v) {
      const vt = typeof v;
      if (vt === "function" || vt === "symbol" || vt === "bigint") {
        throw new TypeError("a " + vt + " at key " + JSON.stringify(key));
      }
      return v;
    });
  } catch (e) {
    throw new ResultError("result is not JSON-serialisable: " +
      String(e && e.message ? e.message : e).replace(/\s*\n\s*/g, " ") + HINT);
  }
  if (json === undefined) json = "null";
  const size = json.length <= maxBytes / 3 ? json.length : encoder.encode(json).length;
  if (size > maxBytes) {
    throw new ResultError("result is " + size + " bytes as JSON, over the limit of " + maxBytes +
      " bytes (max_result_bytes)");
  }
  return json;
}

async function callUser(opts, env, ctx) {
  if (!userModule) userModule = import("./job.js");
  const mod = await userModule;
  const d = mod.default;
  if (typeof d === "function" && !(d.prototype && typeof d.prototype.fetch === "function")) {
    return { value: await d(opts.payload, opts.ctx) };
  }
  let handler = null;
  if (typeof d === "function") handler = new d(ctx, env);            // class with fetch(), e.g. WorkerEntrypoint
  else if (d && typeof d === "object" && typeof d.fetch === "function") handler = d;
  if (!handler) {
    throw new ContractError("the module's default export must be a function (payload, ctx) or an object with " +
      "fetch(request, env, ctx); got " + (d === null ? "null" : typeof d));
  }
  const headers = { "content-type": "application/json" };
  if (opts.ctx.job_id != null) headers["x-dymunim-job-id"] = String(opts.ctx.job_id);
  if (opts.ctx.attempt != null) headers["x-dymunim-attempt"] = String(opts.ctx.attempt);
  if (opts.ctx.trace_id != null) headers["x-dymunim-trace-id"] = String(opts.ctx.trace_id);
  const req = new Request("https://job.dymunim.invalid/", {
    method: "POST", headers, body: JSON.stringify(opts.payload === undefined ? null : opts.payload),
  });
  const resp = await handler.fetch(req, env, ctx);
  if (!(resp instanceof Response)) {
    throw new ContractError("fetch() must return a Response; got " + (resp === null ? "null" : typeof resp));
  }
  const text = await resp.text();
  if (resp.status < 200 || resp.status > 299) {
    throw new ResponseError("fetch handler responded with HTTP " + resp.status +
      (resp.statusText ? " " + resp.statusText : "") + (text ? ": " + text.slice(0, 1000) : ""));
  }
  let value;
  try { value = JSON.parse(text); } catch { value = text; }
  return { value };
}

/** One call: the outcome JSON without duration_ms/cold (the parent adds those). */
function runOne(opts, env, ctx) {
  const store = newLogStore(opts.max_log_lines, opts.max_log_bytes, opts.wrap_offset);
  return als.run(store, async () => {
    let ok = false, resultJson = "null", error = null, timer;
    try {
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError("exceeded " + opts.timeout_ms + " ms")), opts.timeout_ms);
      });
      const out = await Promise.race([callUser(opts, env, ctx), timeout]);
      resultJson = serialiseResult(out.value, opts.max_result_bytes);
      ok = true;
    } catch (e) {
      error = toError(e, opts.wrap_offset);
      if (error.name === "TimeoutError" || error.name === "ResultError") error.stack = error.name + ": " + error.message;
      resultJson = "null";
    } finally {
      clearTimeout(timer);
    }
    const { logs, truncated } = finishLogs(store);
    return '{"ok":' + ok + ',"result":' + resultJson + ',"error":' + (error === null ? "null" : JSON.stringify(error)) +
      ',"logs":' + (logs.length === 0 ? "[]" : JSON.stringify(logs)) + ',"logs_truncated":' + truncated + "}";
  });
}

/**
 * Called by the parent over RPC (no HTTP request/response per call):
 *   run(optsJson)                 -> outcome JSON text
 *   runMany(optsListJson, deliver) runs many calls of this same code concurrently and hands
 *                                 finished outcomes back as they come, coalesced:
 *                                 deliver(indices, outcomeTexts); resolves once all are delivered.
 */
export default class extends WorkerEntrypoint {
  run(optsJson) {
    return runOne(JSON.parse(optsJson), this.env, this.ctx);
  }

  async runMany(optsListJson, deliver) {
    const list = JSON.parse(optsListJson);
    let idx = [], texts = [], flushing = null;
    const flush = async () => {
      while (idx.length > 0) {
        const i = idx, t = texts;
        idx = []; texts = [];
        await deliver(i, t);
      }
      flushing = null;
    };
    let left = list.length, allDone;
    const finished = new Promise((resolve) => { allDone = resolve; });
    // Counted by hand, not Promise.all: that would show up in the users' async stack traces.
    for (let i = 0; i < list.length; i++) {
      runOne(list[i], this.env, this.ctx).then((text) => {
        idx.push(i); texts.push(text);
        if (flushing === null) flushing = Promise.resolve().then(flush);
        if (--left === 0) allDone();
      });
    }
    if (left > 0) await finished;
    while (flushing !== null) await flushing;
  }
}
`;

/** The modules map given to the Worker Loader for one piece of (already normalised) user code. */
export function buildModules(userModuleSource: string): Record<string, string> {
  return {
    [MAIN_MODULE]: MAIN_SOURCE,
    [CAPTURE_MODULE]: CAPTURE_SOURCE,
    [USER_MODULE]: userModuleSource,
  };
}
