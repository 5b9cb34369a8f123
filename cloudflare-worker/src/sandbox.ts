/**
 * Source text of the modules that run INSIDE each Dynamic Worker. They are plain
 * JavaScript strings because the Worker Loader takes module source text.
 *
 *   __dymunim_main.js  main module: console capture (per call, via AsyncLocalStorage so
 *                      concurrent calls in one cached isolate keep their own logs), a
 *                      `fetch` that refuses with a clear message, and a WorkerEntrypoint
 *                      the parent calls over RPC: `run(opts)` answers one call's outcome
 *                      object, `runMany(optsList, deliver)` runs many calls of the same
 *                      code and hands outcomes back as they finish. It imports the user's
 *                      module lazily, on the first call, so it is evaluated first.
 *   job.js             the user's code (see code.ts).
 *
 * Nothing here may contain a backtick or a dollar-brace: these are template literals.
 */

export const USER_MODULE = "job.js";
export const MAIN_MODULE = "__dymunim_main.js";

/** Compatibility settings of every Dynamic Worker. nodejs_compat gives AsyncLocalStorage (and node: built-ins to users). */
export const DYNAMIC_COMPAT_DATE = "2025-09-01";
export const DYNAMIC_COMPAT_FLAGS = ["nodejs_compat"];

/**
 * The one internal module. Everything it keeps (the AsyncLocalStorage, the log stores, the
 * intrinsics it uses) is private to its closure: the only export is the frozen entrypoint class,
 * so job code that imports this module by name gains nothing but a way to run itself again.
 * Intrinsics are captured here, before the user's module is evaluated (it is imported lazily on
 * the first call), so replacing JSON.stringify or Array.prototype.push later changes nothing here.
 * None of this is a trust boundary: the parent (outcome.ts) re-validates every answer and
 * re-applies every limit, because job code runs in this same realm.
 */
const MAIN_SOURCE = String.raw`
import { WorkerEntrypoint } from "cloudflare:workers";
import { AsyncLocalStorage } from "node:async_hooks";

const apply = Reflect.apply;
const stringify = JSON.stringify;
const StringOf = String;
const isArray = Array.isArray;
const toISO = Date.prototype.toISOString;
const DateC = Date;
const ErrorC = Error;
const PromiseC = Promise;
const race = Promise.race.bind(Promise);
const then = Promise.prototype.then;
const arrayPush = Array.prototype.push;
const arrayMap = Array.prototype.map;
const arrayJoin = Array.prototype.join;
const arraySlice = Array.prototype.slice;
const strSplit = String.prototype.split;
const strIncludes = String.prototype.includes;
const strReplace = String.prototype.replace;
const encode = TextEncoder.prototype.encode;
const encoder = new TextEncoder();
const setT = setTimeout;
const clearT = clearTimeout;
const objToString = Object.prototype.toString;
const als = new AsyncLocalStorage();
const getStore = als.getStore.bind(als);
const alsRun = als.run.bind(als);
const byteLength = (s) => apply(encode, encoder, [s]).length;
const nowISO = () => apply(toISO, new DateC(), []);
const push = (arr, v) => apply(arrayPush, arr, [v]);

class TimeoutError extends ErrorC { constructor(m) { super(m); this.name = "TimeoutError"; } }
class ResultError extends ErrorC { constructor(m) { super(m); this.name = "ResultError"; } }
class ResponseError extends ErrorC { constructor(m) { super(m); this.name = "ResponseError"; } }
class ContractError extends ErrorC { constructor(m) { super(m); this.name = "ContractError"; } }
class NetworkBlockedError extends ErrorC { constructor(m) { super(m); this.name = "NetworkBlockedError"; } }
class ChainError extends ErrorC { constructor(m) { super(m); this.name = "ChainError"; } }
const freeze = Object.freeze;
const defineProperty = Object.defineProperty;
const floor = Math.floor;

/** Drops the executor's own frames; for a wrapped bare body, shifts line-1 columns back to the user's. */
function cleanStack(stack, wrapOffset) {
  const lines = apply(strSplit, StringOf(stack), ["\n"]);
  const kept = [];
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i];
    if (apply(strIncludes, l, ["__dymunim_"])) continue;
    if (wrapOffset) {
      l = apply(strReplace, l, [/\bjob\.js:1:(\d+)/g, (m, c) => "job.js:1:" + (c - wrapOffset > 1 ? c - wrapOffset : 1)]);
    }
    push(kept, l);
  }
  return apply(arrayJoin, kept, ["\n"]);
}

function formatArg(a, wrapOffset) {
  if (typeof a === "string") return a;
  if (a instanceof ErrorC) {
    return typeof a.stack === "string" && a.stack ? cleanStack(a.stack, wrapOffset) : StringOf(a.name) + ": " + StringOf(a.message);
  }
  if (a === undefined) return "undefined";
  if (typeof a === "function") return "[Function " + (a.name || "(anonymous)") + "]";
  if (typeof a === "symbol" || typeof a === "bigint") return a.toString() + (typeof a === "bigint" ? "n" : "");
  if (a === null || typeof a !== "object") return StringOf(a);
  try {
    const s = stringify(a, (k, v) => (typeof v === "bigint" ? v.toString() + "n" : v));
    return s === undefined ? StringOf(a) : s;
  } catch {
    try { return StringOf(a); } catch { return "[object]"; }
  }
}

function newLogStore(opts) {
  return { logs: [], bytes: 0, dropped: 0, maxLines: opts.max_log_lines, maxBytes: opts.max_log_bytes,
           wrapOffset: opts.wrap_offset, closed: false };
}

function addLine(store, level, message) {
  if (store.closed) return;
  if (store.dropped > 0 || store.logs.length >= store.maxLines) { store.dropped++; return; }
  const size = byteLength(message);
  if (store.bytes + size > store.maxBytes) { store.dropped++; return; }
  store.bytes += size;
  push(store.logs, { level, at: nowISO(), message });
}

const LEVELS = { log: "log", info: "info", warn: "warn", error: "error", debug: "debug", trace: "debug" };
for (const method of Object.keys(LEVELS)) {
  const level = LEVELS[method];
  console[method] = function () {
    const store = getStore();
    if (!store) return; // lines outside any call (timers that outlive their call) are dropped
    let message;
    try {
      message = apply(arrayJoin, apply(arrayMap, arguments, [(a) => formatArg(a, store.wrapOffset)]), [" "]);
    } catch { message = "[unformattable log line]"; }
    addLine(store, level, message);
  };
}

// A promise rejected with no handler is an error the job's author wants to see: it goes to the
// logs of the call whose code created it (the event runs in that call's async context).
addEventListener("unhandledrejection", (event) => {
  const store = getStore();
  if (!store) return;
  let text;
  try { text = formatArg(event.reason, store.wrapOffset); } catch { text = "[unformattable reason]"; }
  addLine(store, "error", "Unhandled promise rejection: " + text);
});

function describeTarget(input) {
  try {
    if (typeof input === "string") return input;
    if (input && typeof input.url === "string") return input.url;
    return StringOf(input);
  } catch { return "?"; }
}

// globalOutbound: null is the real sandbox; this only gives a clearer message.
globalThis.fetch = function fetch(input) {
  return PromiseC.reject(new NetworkBlockedError(
    "network is blocked: dymunim jobs cannot make outbound requests (fetch to " + describeTarget(input) + " refused)"));
};

function toError(e, wrapOffset) {
  if (e instanceof ErrorC || (e && typeof e === "object" && typeof e.message === "string" && "stack" in e)) {
    let name = "Error", message = "", stack = "";
    try { name = StringOf(e.name || "Error"); } catch {}
    try { message = StringOf(e.message); } catch {}
    try { stack = typeof e.stack === "string" ? cleanStack(e.stack, wrapOffset) : name + ": " + message; } catch {}
    return { name, message, stack };
  }
  let message;
  try { message = StringOf(e); } catch { message = apply(objToString, e, []); }
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
    json = stringify(value, function (key, v) {
      const vt = typeof v;
      if (vt === "function" || vt === "symbol" || vt === "bigint") {
        throw new TypeError("a " + vt + " at key " + stringify(key));
      }
      return v;
    });
  } catch (e) {
    throw new ResultError("result is not JSON-serialisable: " +
      apply(strReplace, StringOf(e && e.message ? e.message : e), [/\s*\n\s*/g, " "]) + HINT);
  }
  if (json === undefined) json = "null";
  const size = json.length <= maxBytes / 3 ? json.length : byteLength(json);
  if (size > maxBytes) {
    throw new ResultError("result is " + size + " bytes as JSON, over the limit of " + maxBytes +
      " bytes (max_result_bytes)");
  }
  return json;
}

/**
 * The ctx a function-style job gets: its ids, and ctx.enqueue / ctx.publish, which only note what to
 * start (as JSON, at the call: later changes to the objects change nothing). The recorder starts them
 * in the transaction that records the job's success; a failed job starts nothing.
 */
function newCtx(opts, effects, call) {
  const limit = opts.max_children;
  const add = (what, effect) => {
    if (call.ended) throw new ChainError(what + " was called after the job ended; await it inside the job");
    if (effects.length >= limit) {
      throw new ChainError(what + ": a job may start at most " + limit + " jobs and events " +
        "(ctx.enqueue, ctx.publish; DYMUNIM_MAX_CHILDREN)");
    }
    let json;
    try {
      json = stringify(effect, (k, v) => {
        const vt = typeof v;
        if (vt === "function" || vt === "symbol" || vt === "bigint") throw new TypeError("a " + vt + " at key " + stringify(k));
        return v;
      });
    } catch (e) {
      throw new TypeError(what + ": its data is not JSON-serialisable (" + StringOf(e && e.message ? e.message : e) + ")");
    }
    push(effects, json);
  };
  const optString = (what, v, field) => {
    if (v === undefined || v === null) return null;
    if (typeof v !== "string" || v === "") throw new TypeError(what + ": " + field + " must be a non-empty string");
    return v;
  };
  const ctx = {
    job_id: opts.ctx.job_id,
    attempt: opts.ctx.attempt,
    trace_id: opts.ctx.trace_id,
  };
  // Not enumerable: a job that returns (or logs) its ctx still gets plain JSON.
  defineProperty(ctx, "enqueue", { value: function enqueue(spec) {
    const what = "ctx.enqueue";
    if (spec === null || typeof spec !== "object") {
      throw new TypeError(what + "({worker_id | code, payload, delay_ms, idempotency_key}) takes one object");
    }
    const worker_id = optString(what, spec.worker_id, "worker_id");
    const code = optString(what, spec.code, "code");
    if ((worker_id === null) === (code === null)) {
      throw new TypeError(what + ": give worker_id (a saved worker) or code (a function body), one of the two");
    }
    const d = spec.delay_ms;
    if (d !== undefined && d !== null && !(typeof d === "number" && d >= 0 && floor(d) === d && d < 1e15)) {
      throw new TypeError(what + ": delay_ms must be a whole number of milliseconds, 0 or more");
    }
    add(what, { type: "enqueue", worker_id, code, payload: spec.payload === undefined ? null : spec.payload,
                delay_ms: d === undefined ? null : d,
                idempotency_key: optString(what, spec.idempotency_key, "idempotency_key") });
  } });
  defineProperty(ctx, "publish", { value: function publish(name, data, options) {
    const what = "ctx.publish";
    if (typeof name !== "string" || name === "") throw new TypeError(what + "(name, data): name must be a non-empty string");
    add(what, { type: "publish", name, data: data === undefined ? null : data,
                idempotency_key: optString(what, options ? options.idempotency_key : null, "idempotency_key") });
  } });
  return freeze(ctx);
}

let userModule = null;

async function callUser(opts, env, ctx, userCtx) {
  if (!userModule) userModule = import("./job.js");
  const mod = await userModule;
  const d = mod.default;
  if (typeof d === "function" && !(d.prototype && typeof d.prototype.fetch === "function")) {
    return { value: await d(opts.payload, userCtx) };
  }
  let handler = null;
  if (typeof d === "function") handler = new d(ctx, env);            // class with fetch(), e.g. WorkerEntrypoint
  else if (d && typeof d === "object" && typeof d.fetch === "function") handler = d;
  if (!handler) {
    throw new ContractError("the module's default export must be a function (payload, ctx) or an object with " +
      "fetch(request, env, ctx); got " + (d === null ? "null" : typeof d));
  }
  const headers = { "content-type": "application/json" };
  if (opts.ctx.job_id != null) headers["x-dymunim-job-id"] = StringOf(opts.ctx.job_id);
  if (opts.ctx.attempt != null) headers["x-dymunim-attempt"] = StringOf(opts.ctx.attempt);
  if (opts.ctx.trace_id != null) headers["x-dymunim-trace-id"] = StringOf(opts.ctx.trace_id);
  const req = new Request("https://job.dymunim.invalid/", {
    method: "POST", headers, body: stringify(opts.payload === undefined ? null : opts.payload),
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

/**
 * One call. Answers a plain object that travels to the parent by structured clone:
 *   {ok, result: JSON text, error: {name, message, stack} | null, logs: [{level, at, message}], dropped,
 *    effects: [JSON text, one per ctx.enqueue / ctx.publish]}
 * The parent parses, measures and re-serialises it with its own intrinsics.
 */
function runOne(opts, env, ctx) {
  const store = newLogStore(opts);
  const effects = [], call = { ended: false };
  const userCtx = newCtx(opts, effects, call);
  return alsRun(store, async () => {
    let ok = false, result = "null", error = null, timer;
    try {
      const timeout = new PromiseC((_, reject) => {
        timer = setT(() => reject(new TimeoutError("exceeded " + opts.timeout_ms + " ms")), opts.timeout_ms);
      });
      const out = await race([callUser(opts, env, ctx, userCtx), timeout]);
      result = serialiseResult(out.value, opts.max_result_bytes);
      ok = true;
    } catch (e) {
      error = toError(e, opts.wrap_offset);
      if (error.name === "TimeoutError" || error.name === "ResultError") error.stack = error.name + ": " + error.message;
      result = "null";
    } finally {
      clearT(timer);
    }
    store.closed = true;
    call.ended = true;
    return { ok, result, error, logs: apply(arraySlice, store.logs, []), dropped: store.dropped,
             effects: ok ? apply(arraySlice, effects, []) : [] };
  });
}

/**
 * Called by the parent over RPC (no HTTP request/response per call):
 *   run(opts)                  -> one outcome object
 *   runMany(optsList, deliver) runs many calls of this same code concurrently and hands finished
 *                              outcomes back as they come, coalesced: deliver(indices, outcomes).
 */
class Main extends WorkerEntrypoint {
  run(opts) {
    return runOne(opts, this.env, this.ctx);
  }

  async runMany(list, deliver) {
    let idx = [], outs = [], flushing = null;
    const flush = async () => {
      while (idx.length > 0) {
        const i = idx, o = outs;
        idx = []; outs = [];
        await deliver(i, o);
      }
      flushing = null;
    };
    let left = list.length, allDone;
    const finished = new PromiseC((resolve) => { allDone = resolve; });
    // Counted by hand, not Promise.all: that would show up in the users' async stack traces.
    for (let i = 0; i < list.length; i++) {
      apply(then, runOne(list[i], this.env, this.ctx), [(out) => {
        push(idx, i); push(outs, out);
        if (flushing === null) flushing = apply(then, PromiseC.resolve(), [flush]);
        if (--left === 0) allDone();
      }]);
    }
    if (left > 0) await finished;
    while (flushing !== null) await flushing;
  }
}
Object.freeze(Main.prototype);
Object.freeze(Main);
export default Main;
`;

/** The modules map given to the Worker Loader for one piece of (already normalised) user code. */
export function buildModules(userModuleSource: string): Record<string, string> {
  return {
    [MAIN_MODULE]: MAIN_SOURCE,
    [USER_MODULE]: userModuleSource,
  };
}
