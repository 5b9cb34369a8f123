/**
 * The trust boundary: turning what a Dynamic Worker answered into an Outcome.
 *
 * Job code runs in the same realm as the sandbox's own module, so it can replace any built-in
 * that module uses: whatever crosses the RPC boundary is untrusted input, including its shape.
 * This side (the parent's realm, which job code cannot touch) checks every field, parses the
 * result with its own JSON.parse, measures it with its own TextEncoder, applies the log and
 * result limits again, replaces unpaired UTF-16 surrogates (Postgres refuses them) and writes
 * the Outcome JSON itself. A malformed answer fails that one job, never its neighbours.
 */

import {
  type Effect,
  LOG_LEVEL_VALUES,
  type JobError,
  type LogLevel,
  type LogLine,
  type Outcome,
  type StepReport,
  type StepRetries,
  type WorkflowReport,
} from "./contract.gen";
import type { Job } from "./job";

const encoder = new TextEncoder();
const LEVELS: ReadonlySet<unknown> = new Set(LOG_LEVEL_VALUES);
const MAX_ERROR_NAME = 200;
const MAX_ERROR_MESSAGE = 16_384;
const MAX_ERROR_STACK = 32_768;
/** ISO-8601 as Date.prototype.toISOString writes it; anything else gets the parent's clock. */
const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
/** A lone surrogate, raw or as a JSON escape (JSON.stringify escapes lone ones since ES2019). */
const SURROGATE_HINT = /[\uD800-\uDFFF]|\\u[dD][89abAB]/;

/** Counts what had to be made storable, for the note in the logs. */
interface Repairs {
  surrogates: number;
}

function wellFormed(s: string, fix: Repairs): string {
  if (s.isWellFormed()) return s;
  const out = s.toWellFormed();
  for (let i = 0; i < out.length; i++) if (out.charCodeAt(i) === 0xfffd && s.charCodeAt(i) !== 0xfffd) fix.surrogates++;
  return out;
}

function capped(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max) + ` … [truncated ${s.length - max} characters]`;
}

function deepWellFormed(v: unknown, fix: Repairs): unknown {
  if (typeof v === "string") return wellFormed(v, fix);
  if (Array.isArray(v)) return v.map((x) => deepWellFormed(x, fix));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[wellFormed(k, fix)] = deepWellFormed(x, fix);
    return out;
  }
  return v;
}

export class ProtocolError extends Error {}

/** The job asked for more than its limits allow: it fails (ChainError), the answer itself was fine. */
class ChainLimit extends Error {}

const MAX_EFFECT_NAME = 200;

function optText(e: Record<string, unknown>, key: string, max: number): string | null {
  const v = e[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v.length === 0 || v.length > max) {
    throw new ProtocolError(`an effect's ${key} is not a string of 1..${max} characters`);
  }
  return v;
}

/**
 * The effects' JSON array for the Outcome (null: none), each parsed with this realm's JSON.parse and
 * rebuilt from the fields an Effect has. Over max_children, or bigger than max_result_bytes in all,
 * the job fails with ChainError.
 */
function effectsJson(v: unknown, job: Job, fix: Repairs): string | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new ProtocolError("effects is not an array");
  if (v.length === 0) return null;
  if (v.length > job.max_children) {
    throw new ChainLimit(`the job asked to start ${v.length} jobs and events; the limit is ${job.max_children} (max_children)`);
  }
  const out: Effect[] = [];
  for (const item of v as unknown[]) {
    if (typeof item !== "string") throw new ProtocolError("an effect is not JSON text");
    let parsed: unknown;
    try {
      parsed = JSON.parse(item);
    } catch {
      throw new ProtocolError("an effect is not valid JSON");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new ProtocolError("an effect is not an object");
    const e = parsed as Record<string, unknown>;
    if (e.type === "enqueue") {
      const worker_id = optText(e, "worker_id", MAX_EFFECT_NAME);
      const code = typeof e.code === "string" && e.code.length > 0 ? e.code : null;
      if ((worker_id === null) === (code === null)) throw new ProtocolError("an enqueue effect needs worker_id or code");
      const d = e.delay_ms;
      if (d !== undefined && d !== null && !(typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
        throw new ProtocolError("an enqueue effect's delay_ms is not a whole number >= 0");
      }
      out.push({ type: "enqueue", worker_id, code: code === null ? null : wellFormed(code, fix),
                 payload: deepWellFormed(e.payload ?? null, fix), delay_ms: typeof d === "number" ? d : null,
                 idempotency_key: optText(e, "idempotency_key", MAX_EFFECT_NAME) });
    } else if (e.type === "publish") {
      const name = optText(e, "name", MAX_EFFECT_NAME);
      if (name === null) throw new ProtocolError("a publish effect has no name");
      out.push({ type: "publish", name: wellFormed(name, fix), data: deepWellFormed(e.data ?? null, fix),
                 idempotency_key: optText(e, "idempotency_key", MAX_EFFECT_NAME) });
    } else {
      throw new ProtocolError("an effect's type is neither enqueue nor publish");
    }
  }
  const json = JSON.stringify(out);
  const size = encoder.encode(json).length;
  if (size > job.max_result_bytes) {
    throw new ChainLimit(`what the job asked to start is ${size} bytes as JSON, over the limit of ` +
      `${job.max_result_bytes} bytes (max_result_bytes)`);
  }
  return json;
}

const MAX_STEP_NAME = 200;
const MAX_WAIT_MS = 365 * 86_400_000;
const BACKOFFS: ReadonlySet<unknown> = new Set(["constant", "linear", "exponential"]);

function wholeMs(v: unknown, what: string, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > MAX_WAIT_MS) {
    throw new ProtocolError(`a step's ${what} is not a whole number of milliseconds from ${min} to 365 days`);
  }
  return v;
}

function retriesOf(v: unknown): StepRetries {
  if (v === null || typeof v !== "object") throw new ProtocolError("a step's retries is not an object");
  const r = v as Record<string, unknown>;
  if (typeof r.limit !== "number" || !Number.isSafeInteger(r.limit) || r.limit < 0 || r.limit > 1000) {
    throw new ProtocolError("a step's retries.limit is not a whole number from 0 to 1000");
  }
  if (!BACKOFFS.has(r.backoff)) throw new ProtocolError("a step's retries.backoff is not constant, linear or exponential");
  return { limit: r.limit, delay_ms: wholeMs(r.delay_ms, "retries.delay_ms", 0), backoff: r.backoff as StepRetries["backoff"] };
}

/**
 * A workflow call's reports, rebuilt field by field: at most one step.do that ran (its result parsed
 * and measured here) and at most one sleep or wait where the run stopped. A step result over
 * max_result_bytes fails that step (ResultError), which its retry policy then handles.
 */
function workflowOf(v: unknown, ok: boolean, job: Job, fix: Repairs): WorkflowReport | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "object" || Array.isArray(v)) throw new ProtocolError("workflow is not an object");
  const w = v as Record<string, unknown>;
  if (typeof w.suspended !== "boolean") throw new ProtocolError("workflow.suspended is not a boolean");
  if (!Array.isArray(w.steps)) throw new ProtocolError("workflow.steps is not an array");
  const steps: StepReport[] = [];
  let dos = 0;
  let stops = 0;
  for (const item of w.steps as unknown[]) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw new ProtocolError("a step report is not an object");
    const r = item as Record<string, unknown>;
    if (typeof r.name !== "string" || r.name.length === 0 || r.name.length > MAX_STEP_NAME) {
      throw new ProtocolError(`a step's name is not a string of 1..${MAX_STEP_NAME} characters`);
    }
    const name = wellFormed(r.name, fix);
    if (r.kind === "do") {
      dos++;
      const duration = typeof r.duration_ms === "number" && Number.isFinite(r.duration_ms) && r.duration_ms >= 0
        ? r.duration_ms : 0;
      const timeout_ms = r.timeout_ms === undefined || r.timeout_ms === null ? null : wholeMs(r.timeout_ms, "timeout_ms", 1);
      const retries = r.retries === undefined ? { limit: 0, delay_ms: 0, backoff: "constant" as const } : retriesOf(r.retries);
      let error: JobError | null = null;
      let result: unknown = null;
      if (r.ok === true) {
        if (typeof r.result !== "string") throw new ProtocolError("a step's result is not JSON text");
        try {
          result = deepWellFormed(JSON.parse(r.result), fix);
        } catch (e) {
          if (e instanceof ProtocolError) throw e;
          error = fail("InvalidResult", `step "${name}" returned something that is not valid JSON`);
        }
        const size = encoder.encode(r.result).length;
        if (error === null && size > job.max_result_bytes) {
          error = fail("ResultError", `step "${name}" returned ${size} bytes as JSON, over the limit of ` +
            `${job.max_result_bytes} bytes (max_result_bytes)`);
        }
      } else if (r.ok === false) {
        error = errorInfo(r.error, fix);
      } else {
        throw new ProtocolError("a step's ok is not a boolean");
      }
      steps.push(error === null
        ? { kind: "do", name, ok: true, result, duration_ms: duration, retries, timeout_ms }
        : { kind: "do", name, ok: false, error, duration_ms: duration, retries, timeout_ms });
    } else if (r.kind === "sleep") {
      stops++;
      if (typeof r.until_ms !== "number" || !Number.isFinite(r.until_ms)) throw new ProtocolError("a sleep's until_ms is not a number");
      steps.push({ kind: "sleep", name, until_ms: r.until_ms });
    } else if (r.kind === "wait") {
      stops++;
      if (typeof r.event_type !== "string" || r.event_type.length === 0 || r.event_type.length > MAX_STEP_NAME) {
        throw new ProtocolError(`a wait's event_type is not a string of 1..${MAX_STEP_NAME} characters`);
      }
      steps.push({ kind: "wait", name, event_type: wellFormed(r.event_type, fix), timeout_ms: wholeMs(r.timeout_ms, "timeout_ms", 0) });
    } else {
      throw new ProtocolError("a step's kind is not do, sleep or wait");
    }
  }
  if (dos > 1 || stops > 1) throw new ProtocolError("a call reported more than one new step.do or more than one sleep or wait");
  if (w.suspended && (!ok || steps.length === 0)) throw new ProtocolError("a suspended run reported no step, or failed");
  return { steps, suspended: w.suspended };
}

function isLevel(v: unknown): v is LogLevel {
  return LEVELS.has(v);
}

function errorInfo(v: unknown, fix: Repairs): JobError {
  if (v === null || typeof v !== "object") throw new ProtocolError("error is not an object");
  const e = v as Record<string, unknown>;
  if (typeof e.name !== "string" || typeof e.message !== "string") {
    throw new ProtocolError("error.name and error.message must be strings");
  }
  const stack = typeof e.stack === "string" ? e.stack : `${e.name}: ${e.message}`;
  return {
    name: wellFormed(capped(e.name, MAX_ERROR_NAME), fix) || "Error",
    message: wellFormed(capped(e.message, MAX_ERROR_MESSAGE), fix),
    stack: wellFormed(capped(stack, MAX_ERROR_STACK), fix),
  };
}

/** The log lines within max_log_lines / max_log_bytes; `dropped` counts what did not fit. */
function logLines(v: unknown, job: Job, droppedInside: unknown, fix: Repairs): { logs: LogLine[]; dropped: number } {
  if (!Array.isArray(v)) throw new ProtocolError("logs is not an array");
  const inside = typeof droppedInside === "number" && Number.isSafeInteger(droppedInside) && droppedInside > 0
    ? droppedInside
    : 0;
  let dropped = 0; // once one line is dropped here, every later one is too: the kept lines stay a prefix
  const logs: LogLine[] = [];
  let bytes = 0;
  for (const item of v as unknown[]) {
    if (logs.length >= job.max_log_lines || dropped > 0) {
      dropped++;
      continue;
    }
    if (item === null || typeof item !== "object") throw new ProtocolError("a log line is not an object");
    const line = item as Record<string, unknown>;
    if (typeof line.message !== "string") throw new ProtocolError("a log line's message is not a string");
    const message = wellFormed(line.message, fix);
    const size = encoder.encode(message).length;
    if (bytes + size > job.max_log_bytes) {
      dropped++;
      continue;
    }
    bytes += size;
    logs.push({
      level: isLevel(line.level) ? line.level : "log",
      at: typeof line.at === "string" && ISO_RE.test(line.at) ? line.at : new Date().toISOString(),
      message,
    });
  }
  return { logs, dropped: dropped + inside };
}

function marker(job: Job, dropped: number): LogLine {
  return {
    level: "warn",
    at: new Date().toISOString(),
    message: `[dymunim] logs truncated: ${dropped} more lines dropped (limit ${job.max_log_lines} lines / ${job.max_log_bytes} bytes)`,
  };
}

/** The Outcome's JSON, written here (not by JSON.stringify of an object) so `resultJson` goes in as checked. */
function outcomeText(ok: Outcome["ok"], resultJson: string, error: Outcome["error"], logs: Outcome["logs"],
                     truncated: Outcome["logs_truncated"], durationMs: Outcome["duration_ms"], cold: Outcome["cold"],
                     effects: string | null = null, workflow: WorkflowReport | null = null): string {
  return `{"ok":${ok},"result":${resultJson},"error":${error === null ? "null" : JSON.stringify(error)},` +
    `"logs":${logs.length === 0 ? "[]" : JSON.stringify(logs)},"logs_truncated":${truncated},` +
    `"duration_ms":${durationMs},"cold":${cold}${effects === null ? "" : `,"effects":${effects}`}` +
    `${workflow === null ? "" : `,"workflow":${JSON.stringify(workflow)}`}}`;
}

export function failedOutcome(error: JobError, durationMs: number, cold: boolean): string {
  return outcomeText(false, "null", error, [], false, durationMs, cold);
}

function fail(name: string, message: string): JobError {
  return { name, message, stack: `${name}: ${message}` };
}

/**
 * The Outcome JSON for one answer of the sandbox's `run` / `runMany`. Never throws: a malformed
 * answer becomes `ExecutorProtocolError`, a result that is not JSON `InvalidResult`, an oversized
 * one `ResultError`, each for this job alone.
 */
export function acceptAnswer(answer: unknown, job: Job, durationMs: number, cold: boolean): string {
  const fix: Repairs = { surrogates: 0 };
  try {
    if (answer === null || typeof answer !== "object" || Array.isArray(answer)) {
      throw new ProtocolError(`the answer is ${answer === null ? "null" : typeof answer}, not an object`);
    }
    const a = answer as Record<string, unknown>;
    if (typeof a.ok !== "boolean") throw new ProtocolError("ok is not a boolean");
    const { logs, dropped } = logLines(a.logs, job, a.dropped, fix);
    let ok = a.ok;
    let resultJson = "null";
    let error: JobError | null = null;
    let effects: string | null = null;
    if (ok) {
      if (typeof a.result !== "string") throw new ProtocolError("result is not JSON text");
      resultJson = a.result;
      let value: unknown;
      try {
        value = JSON.parse(resultJson);
      } catch (e) {
        value = undefined;
        ok = false;
        error = fail("InvalidResult", `the sandbox's result is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
      if (ok && SURROGATE_HINT.test(resultJson)) {
        const before = fix.surrogates;
        const clean = deepWellFormed(value, fix);
        if (fix.surrogates > before) resultJson = JSON.stringify(clean);
      }
      if (ok) {
        const size = resultJson.length <= job.max_result_bytes / 3 ? resultJson.length : encoder.encode(resultJson).length;
        if (size > job.max_result_bytes) {
          ok = false;
          error = fail("ResultError",
            `result is ${size} bytes as JSON, over the limit of ${job.max_result_bytes} bytes (max_result_bytes)`);
        }
      }
      if (ok) {
        try {
          effects = effectsJson(a.effects, job, fix);
        } catch (e) {
          if (!(e instanceof ChainLimit)) throw e;
          ok = false;
          error = fail("ChainError", e.message);
        }
      }
      if (!ok) resultJson = "null";
    } else {
      error = errorInfo(a.error, fix);
    }
    const workflow = workflowOf(a.workflow, a.ok, job, fix);
    if (dropped > 0) logs.push(marker(job, dropped));
    if (fix.surrogates > 0) {
      logs.push({
        level: "warn",
        at: new Date().toISOString(),
        message: `[dymunim] replaced ${fix.surrogates} unpaired UTF-16 surrogate${fix.surrogates === 1 ? "" : "s"} ` +
          "with U+FFFD in this job's output: they are not valid Unicode text and cannot be stored",
      });
    }
    return outcomeText(ok, resultJson, error, logs, dropped > 0, durationMs, cold, ok ? effects : null, workflow);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return failedOutcome(
      fail("ExecutorProtocolError",
        `the sandbox answered in an unexpected shape (${why}); the job's code may have replaced built-ins the executor relies on`),
      durationMs,
      cold,
    );
  }
}
