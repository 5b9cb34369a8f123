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
class WorkflowError extends ErrorC { constructor(m) { super(m); this.name = "WorkflowError"; } }
class StepTimeoutError extends ErrorC { constructor(m) { super(m); this.name = "StepTimeoutError"; } }
class EventTimeoutError extends ErrorC { constructor(m) { super(m); this.name = "EventTimeoutError"; } }
const freeze = Object.freeze;
const defineProperty = Object.defineProperty;
const floor = Math.floor;
const isFiniteN = Number.isFinite;
const parse = JSON.parse;
const reExec = RegExp.prototype.exec;
const strLower = String.prototype.toLowerCase;
const getTime = Date.prototype.getTime;
const dateNow = Date.now;

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


/**
 * Durable workflows: a module whose default export has run(event, step) (an object, or a class such
 * as a WorkflowEntrypoint) is a workflow. Each call replays run() from the top with the steps the
 * recorder stored (opts.workflow.steps): a completed step returns its stored result without running.
 * The first step that is new runs; at the next new step (or a sleep or wait) the call stops, and run()
 * is left pending for good. The call answers what it did as reports; the recorder stores them and puts
 * the run back on the queue (now, at the sleep's end, at the wait's timeout) in one transaction.
 */
const DURATION_UNITS = { millisecond: 1, ms: 1, second: 1000, minute: 60000, hour: 3600000, day: 86400000,
                         week: 604800000, month: 2592000000, year: 31536000000 };
const DURATION_RE = /^\s*(\d+(?:\.\d+)?)\s*(millisecond|ms|second|minute|hour|day|week|month|year)s?\s*$/i;
const MAX_WAIT_MS = 31536000000;  // 365 days, Cloudflare Workflows' limit on a sleep
const BACKOFFS = { constant: true, linear: true, exponential: true };

function duration(what, v) {
  if (typeof v === "number" && isFiniteN(v) && v >= 0 && v <= MAX_WAIT_MS) return floor(v);
  if (typeof v === "string") {
    const m = apply(reExec, DURATION_RE, [v]);
    if (m) {
      const ms = floor(+m[1] * DURATION_UNITS[apply(strLower, m[2], [])]);
      if (ms <= MAX_WAIT_MS) return ms;
    }
  }
  throw new TypeError(what + ": a duration is milliseconds (a number) or text such as \"10 seconds\", \"5 minutes\" " +
    "or \"1 hour\", at most 365 days; got " + formatArg(v, 0));
}

function stepConfig(what, c) {
  // Cloudflare Workflows' defaults: 5 retries, 10 s apart, doubling; 10 minutes per try.
  const out = { retries: { limit: 5, delay_ms: 10000, backoff: "exponential" }, timeout_ms: 600000 };
  if (c === undefined || c === null) return out;
  if (typeof c !== "object") throw new TypeError(what + ": the config must be an object {retries, timeout}");
  const r = c.retries;
  if (r !== undefined && r !== null) {
    if (typeof r !== "object") throw new TypeError(what + ": retries must be {limit, delay, backoff}");
    if (r.limit !== undefined) {
      if (!(typeof r.limit === "number" && r.limit >= 0 && floor(r.limit) === r.limit && r.limit <= 1000)) {
        throw new TypeError(what + ": retries.limit must be a whole number from 0 to 1000");
      }
      out.retries.limit = r.limit;
    }
    if (r.delay !== undefined) out.retries.delay_ms = duration(what + ": retries.delay", r.delay);
    if (r.backoff !== undefined) {
      if (typeof r.backoff !== "string" || !BACKOFFS[r.backoff]) {
        throw new TypeError(what + ": retries.backoff must be \"constant\", \"linear\" or \"exponential\"");
      }
      out.retries.backoff = r.backoff;
    }
  }
  if (c.timeout !== undefined) out.timeout_ms = duration(what + ": timeout", c.timeout) || 1;
  return out;
}

function storedError(e) {
  const err = new ErrorC(e && typeof e.message === "string" ? e.message : "the step failed");
  try { err.name = e && typeof e.name === "string" ? e.name : "Error"; } catch {}
  return err;
}

function isWorkflow(d) {
  if (d && typeof d === "object") return typeof d.run === "function" && typeof d.fetch !== "function";
  return typeof d === "function" && !!d.prototype && typeof d.prototype.run === "function" &&
    typeof d.prototype.fetch !== "function";
}

function newWorkflow(opts) {
  const stored = Object.create(null);
  const list = opts.workflow && isArray(opts.workflow.steps) ? opts.workflow.steps : [];
  for (let i = 0; i < list.length; i++) stored[list[i].name] = list[i];
  const seen = Object.create(null);
  const wf = { reports: [], stopped: false, current: null, started: 0, stopReport: null, suspended: null, resume: null };
  wf.suspended = new PromiseC((resolve) => { wf.resume = resolve; });
  const never = () => new PromiseC(() => {});
  // Stop the call here; a new step still running finishes (and is reported) first.
  const stop = (report) => {
    if (!wf.stopped) {
      wf.stopped = true;
      wf.stopReport = report;
      if (wf.current === null) wf.resume();
    }
    return never();
  };
  const name = (what, n) => {
    if (typeof n !== "string" || n === "" || n.length > 200) {
      throw new TypeError(what + ": the step name must be a string of 1 to 200 characters");
    }
    if (seen[n]) {
      throw new WorkflowError(what + "(" + stringify(n) + "): a step of this name was already used in this run; " +
        "step names must be unique per run");
    }
    seen[n] = true;
    const s = stored[n];
    return s === undefined ? null : s;
  };
  const kindCheck = (what, n, s, kind) => {
    if (s !== null && s.kind !== kind) {
      throw new WorkflowError(what + "(" + stringify(n) + "): an earlier call of this run used this name for a step." +
        (s.kind === "wait" ? "waitForEvent" : s.kind) + "; step names must be unique per run");
    }
  };
  const step = {
    async do(n, a, b) {
      const what = "step.do";
      const s = name(what, n);
      kindCheck(what, n, s, "do");
      const fn = typeof a === "function" ? a : b;
      if (typeof fn !== "function") throw new TypeError(what + "(name, [config], callback): the callback must be a function");
      const cfg = stepConfig(what, typeof a === "function" ? null : a);
      if (s !== null && s.status === "completed") return s.result;
      if (s !== null && s.status === "failed") throw storedError(s.error);
      if (wf.stopped || wf.started > 0) return stop(null);  // one new step per call: the next call starts here
      wf.started = 1;
      wf.current = n;
      const t0 = apply(dateNow, DateC, []);
      let report;
      let timer;
      try {
        const limit = new PromiseC((_, reject) => {
          timer = setT(() => reject(new StepTimeoutError("step " + stringify(n) + " exceeded its timeout of " +
            cfg.timeout_ms + " ms")), cfg.timeout_ms);
        });
        const value = await race([fn({ attempt: (s === null ? 0 : s.attempts) + 1 }), limit]);
        report = { kind: "do", name: n, ok: true, result: serialiseResult(value, opts.max_result_bytes),
                   duration_ms: apply(dateNow, DateC, []) - t0, retries: cfg.retries, timeout_ms: cfg.timeout_ms };
      } catch (e) {
        const error = toError(e, opts.wrap_offset);
        if (e instanceof ResultError) {
          error.message = "step " + stringify(n) + ": " + error.message;
          error.stack = "ResultError: " + error.message;
        }
        report = { kind: "do", name: n, ok: false, error,
                   duration_ms: apply(dateNow, DateC, []) - t0, retries: cfg.retries, timeout_ms: cfg.timeout_ms };
      } finally {
        clearT(timer);
      }
      wf.current = null;
      push(wf.reports, report);
      if (!report.ok || wf.stopped) {  // a failed step: the recorder retries it with its policy
        stop(null);
        wf.resume();
        return never();
      }
      return parse(report.result);  // what a replay will return: the stored JSON, not the object itself
    },
    sleep(n, d) {
      const what = "step.sleep";
      const s = name(what, n);
      kindCheck(what, n, s, "sleep");
      const ms = duration(what, d);
      if (s !== null && s.status === "completed") return PromiseC.resolve();
      if (s !== null) return stop({ kind: "sleep", name: n, until_ms: s.until_ms });
      return stop({ kind: "sleep", name: n, until_ms: apply(dateNow, DateC, []) + ms });
    },
    sleepUntil(n, at) {
      const what = "step.sleepUntil";
      const s = name(what, n);
      kindCheck(what, n, s, "sleep");
      let t = NaN;
      if (at instanceof DateC) t = apply(getTime, at, []);
      else if (typeof at === "number") t = at;
      else if (typeof at === "string") t = apply(getTime, new DateC(at), []);
      if (!isFiniteN(t)) throw new TypeError(what + ": the time must be a Date, epoch milliseconds or an ISO 8601 text");
      if (s !== null && s.status === "completed") return PromiseC.resolve();
      if (s !== null) return stop({ kind: "sleep", name: n, until_ms: s.until_ms });
      return stop({ kind: "sleep", name: n, until_ms: t });
    },
    waitForEvent(n, options) {
      const what = "step.waitForEvent";
      const s = name(what, n);
      kindCheck(what, n, s, "wait");
      const type = options && options.type;
      if (typeof type !== "string" || type === "" || type.length > 200) {
        throw new TypeError(what + "(name, {type, timeout}): type must be a string of 1 to 200 characters");
      }
      const timeout = duration(what + ": timeout", options.timeout === undefined ? "24 hours" : options.timeout);
      if (s !== null && s.status === "completed") return PromiseC.resolve(s.result);
      if (s !== null && s.status === "timed_out") {
        return PromiseC.reject(new EventTimeoutError(what + "(" + stringify(n) + "): no event of type " +
          stringify(s.event_type) + " arrived before the timeout"));
      }
      return stop({ kind: "wait", name: n, event_type: type, timeout_ms: timeout });
    },
  };
  wf.step = freeze(step);
  return wf;
}

let userModule = null;

async function callUser(opts, env, ctx, userCtx, holder) {
  if (!userModule) userModule = import("./job.js");
  const mod = await userModule;
  const d = mod.default;
  if (isWorkflow(d)) {
    const wf = newWorkflow(opts);
    holder.wf = wf;
    const target = typeof d === "function" ? new d(ctx, env) : d;
    const created = typeof opts.created_ms === "number" ? opts.created_ms : apply(dateNow, DateC, []);
    const event = freeze({ payload: opts.payload === undefined ? null : opts.payload, id: opts.ctx.job_id,
                           instanceId: StringOf(opts.ctx.job_id), timestamp: new DateC(created) });
    return { value: await race([target.run(event, wf.step), wf.suspended]) };
  }
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
  const holder = { wf: null };
  return alsRun(store, async () => {
    let ok = false, result = "null", error = null, timer, workflow;
    try {
      const timeout = new PromiseC((_, reject) => {
        timer = setT(() => reject(new TimeoutError("exceeded " + opts.timeout_ms + " ms")), opts.timeout_ms);
      });
      const out = await race([callUser(opts, env, ctx, userCtx, holder), timeout]);
      if (!(holder.wf && holder.wf.stopped)) result = serialiseResult(out.value, opts.max_result_bytes);
      ok = true;
    } catch (e) {
      error = toError(e, opts.wrap_offset);
      if (error.name === "TimeoutError" || error.name === "ResultError") error.stack = error.name + ": " + error.message;
      result = "null";
      const wf = holder.wf;
      if (wf && wf.current !== null && error.name === "TimeoutError") {
        // The call ran out of time inside a new step: that step failed (its retries apply), not the run.
        push(wf.reports, { kind: "do", name: wf.current, ok: false, error, duration_ms: opts.timeout_ms });
        wf.current = null;
        wf.stopped = true;
        ok = true;
        error = null;
      }
    } finally {
      clearT(timer);
    }
    store.closed = true;
    call.ended = true;
    const wf = holder.wf;
    if (wf) {
      const reports = apply(arraySlice, wf.reports, []);
      if (wf.stopReport) push(reports, wf.stopReport);
      workflow = { steps: reports, suspended: wf.stopped && ok };
    }
    return { ok, result, error, logs: apply(arraySlice, store.logs, []), dropped: store.dropped,
             effects: ok ? apply(arraySlice, effects, []) : [], workflow };
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
