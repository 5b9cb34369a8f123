/**
 * Running one Job in a Dynamic Worker and producing its Outcome as JSON text.
 *
 * The Dynamic Worker's main module (sandbox.ts) does the per-call work: log
 * capture, timeout, result checks. It is called over RPC (`run`, or `runMany`
 * for the jobs of a batch that share a cache_id and code), and answers with
 *   {"ok":…,"result":…,"error":…,"logs":[…],"logs_truncated":…}
 * and this side adds "duration_ms" and "cold". Outcomes stay JSON text end to
 * end so a batch of results is joined, not re-parsed.
 */

import { type ErrorInfo, sha256hex, startupError, toUserModule, type UserModule, WRAP_HEADER } from "./code";
import type { Job } from "./job";
import { buildModules, DYNAMIC_COMPAT_DATE, DYNAMIC_COMPAT_FLAGS, MAIN_MODULE } from "./sandbox";

/** How long past timeout_ms the parent waits before it gives up on the Dynamic Worker itself. */
const PARENT_GRACE_MS = 2_000;

/** What is derived from one code string: memoised, since batches repeat the same code. */
interface Prepared {
  mod: UserModule;
  code: WorkerLoaderWorkerCode;
  wrapOffset: number;
  /** sha256hex of the code, computed on the first /get use. */
  hash: string | null;
}

const PREPARED = new Map<string, Prepared>();
const PREPARED_MAX_ENTRIES = 256;
const PREPARED_MAX_CHARS = 16 * 2 ** 20;
let preparedChars = 0;

function prepare(code: string): Prepared {
  const hit = PREPARED.get(code);
  if (hit !== undefined) return hit;
  const mod = toUserModule(code);
  const p: Prepared = {
    mod,
    code: {
      compatibilityDate: DYNAMIC_COMPAT_DATE,
      compatibilityFlags: DYNAMIC_COMPAT_FLAGS,
      mainModule: MAIN_MODULE,
      modules: buildModules(mod.source),
      globalOutbound: null, // no network: fetch()/connect() are refused by the runtime
      env: {}, // no bindings
    },
    wrapOffset: mod.wrapped ? WRAP_HEADER.length : 0,
    hash: null,
  };
  if (code.length <= PREPARED_MAX_CHARS / 4) {
    // Bounded: evict the oldest entries (insertion order) past the limits.
    PREPARED.set(code, p);
    preparedChars += code.length;
    for (const [k] of PREPARED) {
      if (PREPARED.size <= PREPARED_MAX_ENTRIES && preparedChars <= PREPARED_MAX_CHARS) break;
      PREPARED.delete(k);
      preparedChars -= k.length;
    }
  }
  return p;
}

/** The isolate id: the code hash is part of it, since the same id with new code would return the OLD isolate. */
async function isolateId(cacheId: string, code: string, p: Prepared): Promise<string> {
  p.hash ??= await sha256hex(code);
  return `${cacheId}:${p.hash}`;
}

/** The RPC surface of the Dynamic Worker's main module (sandbox.ts). */
interface MainEntrypoint {
  run(optsJson: string): Promise<unknown>;
  runMany(optsListJson: string, deliver: (indices: number[], outcomes: string[]) => void): Promise<unknown>;
}

function optsJson(job: Job, wrapOffset: number): string {
  return JSON.stringify({
    payload: job.payload,
    ctx: { job_id: job.job_id, attempt: job.attempt, trace_id: job.trace_id },
    timeout_ms: job.timeout_ms,
    max_log_lines: job.max_log_lines,
    max_log_bytes: job.max_log_bytes,
    max_result_bytes: job.max_result_bytes,
    wrap_offset: wrapOffset,
  });
}

function isOutcomeText(t: unknown): t is string {
  return typeof t === "string" && t.startsWith('{"ok":') && t.endsWith("}");
}

function withTiming(text: string, durationMs: number, cold: boolean): string {
  return `${text.slice(0, -1)},"duration_ms":${durationMs},"cold":${cold}}`;
}

function timeoutOutcome(job: Job, durationMs: number, cold: boolean): string {
  const message = `exceeded ${job.timeout_ms} ms`;
  return failedOutcome({ name: "TimeoutError", message, stack: `TimeoutError: ${message}` }, durationMs, cold);
}

/** The call into the Dynamic Worker failed: a start-up error in the user's lines, or an ExecutorError. */
function callFailedOutcome(e: unknown, mod: UserModule, durationMs: number, cold: boolean): string {
  const text = e instanceof Error ? e.message : String(e);
  const err = startupError(text, mod) ?? {
    name: "ExecutorError",
    message: `the dynamic worker failed: ${text}`,
    stack: e instanceof Error && e.stack ? e.stack : `ExecutorError: ${text}`,
  };
  return failedOutcome(err, durationMs, cold);
}

function dispose(x: unknown): void {
  try {
    const d = (x as { [Symbol.dispose]?: () => void } | null)?.[Symbol.dispose];
    if (typeof d === "function") d.call(x);
  } catch {
    // already released
  }
}

export function failedOutcome(error: ErrorInfo, durationMs: number, cold: boolean): string {
  return JSON.stringify({
    ok: false,
    result: null,
    error,
    logs: [],
    logs_truncated: false,
    duration_ms: durationMs,
    cold,
  });
}

class DeadlineError extends Error {}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Runs `job`: with a cache_id through LOADER.get (warm isolate reused), otherwise LOADER.load (fresh isolate). */
export async function runJob(loader: WorkerLoader, job: Job): Promise<string> {
  const p = prepare(job.code);
  let cold = true;
  let stub: WorkerStub;
  if (job.cache_id !== null) {
    const id = await isolateId(job.cache_id, job.code, p);
    cold = false;
    stub = loader.get(id, () => {
      cold = true;
      return p.code;
    });
  } else {
    stub = loader.load(p.code);
  }

  const entry = stub.getEntrypoint() as unknown as MainEntrypoint;
  const opts = optsJson(job, p.wrapOffset);
  const started = Date.now();
  try {
    const text = await withDeadline(
      entry.run(opts).then((t) => {
        if (!isOutcomeText(t)) {
          throw new Error(`unexpected answer from the dynamic worker: ${String(t).slice(0, 500)}`);
        }
        return t;
      }),
      job.timeout_ms + PARENT_GRACE_MS,
    );
    return withTiming(text, Date.now() - started, cold);
  } catch (e) {
    const duration = Date.now() - started;
    if (e instanceof DeadlineError) return timeoutOutcome(job, duration, cold);
    return callFailedOutcome(e, p.mod, duration, cold);
  } finally {
    dispose(entry);
    dispose(stub);
  }
}

/**
 * Runs jobs that share one cache_id and one code string in one isolate with ONE RPC call
 * (`runMany`), instead of one call per job. Outcomes come back as they finish, so each job
 * keeps its own parent deadline (timeout_ms + grace); the first job carries `cold` when the
 * call created the isolate.
 */
async function runGroup(loader: WorkerLoader, cacheId: string, jobs: Job[]): Promise<string[]> {
  const code = jobs[0]!.code;
  const p = prepare(code);
  const id = await isolateId(cacheId, code, p);
  let cold = false;
  const stub = loader.get(id, () => {
    cold = true;
    return p.code;
  });
  const entry = stub.getEntrypoint() as unknown as MainEntrypoint;
  const out: (string | undefined)[] = new Array<string | undefined>(jobs.length).fill(undefined);
  let left = jobs.length;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const coldOf = (i: number): boolean => i === 0 && cold;
  const settle = (i: number, text: string): void => {
    if (out[i] !== undefined) return;
    out[i] = text;
    if (--left === 0) finish();
  };
  const started = Date.now();

  // One parent deadline timer per distinct timeout_ms (usually one per group).
  const byTimeout = new Map<number, number[]>();
  jobs.forEach((job, i) => {
    const list = byTimeout.get(job.timeout_ms);
    if (list) list.push(i);
    else byTimeout.set(job.timeout_ms, [i]);
  });
  const timers = [...byTimeout].map(([ms, idx]) =>
    setTimeout(() => {
      const duration = Date.now() - started;
      for (const i of idx) settle(i, timeoutOutcome(jobs[i]!, duration, coldOf(i)));
    }, ms + PARENT_GRACE_MS),
  );

  const deliver = (indices: number[], outcomes: string[]): void => {
    const duration = Date.now() - started;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      const t = outcomes[k];
      if (i >= 0 && i < jobs.length) {
        settle(
          i,
          isOutcomeText(t)
            ? withTiming(t, duration, coldOf(i))
            : callFailedOutcome(
                new Error(`unexpected answer from the dynamic worker: ${String(t).slice(0, 500)}`),
                p.mod,
                duration,
                coldOf(i),
              ),
        );
      }
    }
  };
  const opts = `[${jobs.map((job) => optsJson(job, p.wrapOffset)).join(",")}]`;
  entry.runMany(opts, deliver).then(
    () => {
      const duration = Date.now() - started;
      const e = new Error("the dynamic worker finished without an outcome for this job");
      for (let i = 0; i < jobs.length; i++) settle(i, callFailedOutcome(e, p.mod, duration, coldOf(i)));
    },
    (e: unknown) => {
      const duration = Date.now() - started;
      for (let i = 0; i < jobs.length; i++) settle(i, callFailedOutcome(e, p.mod, duration, coldOf(i)));
    },
  );
  try {
    await done;
    return out as string[];
  } finally {
    for (const t of timers) clearTimeout(t);
    dispose(entry);
    dispose(stub);
  }
}

/** Runs a batch: jobs sharing cache_id and code go to their isolate in one RPC call, the rest one by one. */
export async function runBatch(loader: WorkerLoader, jobs: Job[]): Promise<string[]> {
  const groups = new Map<string, number[]>();
  jobs.forEach((job, i) => {
    if (job.cache_id === null) return;
    const key = `${job.cache_id.length}:${job.cache_id}:${job.code}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const results: string[] = new Array<string>(jobs.length);
  const work: Promise<void>[] = [];
  const grouped = new Set<number>();
  for (const idx of groups.values()) {
    if (idx.length < 2) continue;
    for (const i of idx) grouped.add(i);
    const sub = idx.map((i) => jobs[i]!);
    work.push(
      runGroup(loader, sub[0]!.cache_id!, sub).then((outs) => {
        idx.forEach((i, k) => {
          results[i] = outs[k]!;
        });
      }),
    );
  }
  jobs.forEach((job, i) => {
    if (grouped.has(i)) return;
    work.push(
      runJob(loader, job).then((o) => {
        results[i] = o;
      }),
    );
  });
  await Promise.all(work);
  return results;
}
