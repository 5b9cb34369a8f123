/**
 * Running Jobs in Dynamic Workers and producing their Outcomes as JSON text.
 *
 * The Dynamic Worker's main module (sandbox.ts) does the per-call work: log
 * capture, timeout, result serialisation. It is called over RPC (`run`, or
 * `runMany` for the jobs of a batch that share a cache_id and code) and answers
 * plain objects by structured clone; outcome.ts checks each one on this side of
 * the boundary and writes the Outcome JSON, adding "duration_ms" and "cold".
 */

import { sha256hex, startupError, toUserModule, type UserModule, WRAP_HEADER } from "./code";
import type { Job } from "./job";
import { acceptAnswer, failedOutcome } from "./outcome";
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

/** What the parent sends for one call (structured clone). */
interface CallOpts {
  payload: unknown;
  ctx: { job_id: number | null; attempt: number | null; trace_id: string | null };
  timeout_ms: number;
  max_log_lines: number;
  max_log_bytes: number;
  max_result_bytes: number;
  max_children: number;
  wrap_offset: number;
  created_ms: number | null;
  workflow: Job["workflow"];
}

/** The RPC surface of the Dynamic Worker's main module (sandbox.ts). Its answers are untrusted. */
interface MainEntrypoint {
  run(opts: CallOpts): Promise<unknown>;
  runMany(opts: CallOpts[], deliver: (indices: unknown, outcomes: unknown) => void): Promise<unknown>;
}

function callOpts(job: Job, wrapOffset: number): CallOpts {
  return {
    payload: job.payload,
    ctx: { job_id: job.job_id, attempt: job.attempt, trace_id: job.trace_id },
    timeout_ms: job.timeout_ms,
    max_log_lines: job.max_log_lines,
    max_log_bytes: job.max_log_bytes,
    max_result_bytes: job.max_result_bytes,
    max_children: job.max_children,
    wrap_offset: wrapOffset,
    created_ms: job.created_at === null ? null : Date.parse(job.created_at) || null,
    workflow: job.workflow,
  };
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
  const started = Date.now();
  try {
    const answer = await withDeadline(entry.run(callOpts(job, p.wrapOffset)), job.timeout_ms + PARENT_GRACE_MS);
    return acceptAnswer(answer, job, Date.now() - started, cold);
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
async function runGroup(loader: WorkerLoader, cacheId: string, jobs: Job[], emit: Emit): Promise<void> {
  const code = jobs[0]!.code;
  const p = prepare(code);
  const id = await isolateId(cacheId, code, p);
  let cold = false;
  const stub = loader.get(id, () => {
    cold = true;
    return p.code;
  });
  const entry = stub.getEntrypoint() as unknown as MainEntrypoint;
  const settled: boolean[] = new Array<boolean>(jobs.length).fill(false);
  let left = jobs.length;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const coldOf = (i: number): boolean => i === 0 && cold;
  const settle = (i: number, text: string): void => {
    if (settled[i]) return;
    settled[i] = true;
    emit(i, text);
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

  // Indices and outcomes come from the sandbox's realm: each index is checked, each outcome on its own.
  const deliver = (indices: unknown, outcomes: unknown): void => {
    if (!Array.isArray(indices) || !Array.isArray(outcomes)) return;
    const duration = Date.now() - started;
    for (let k = 0; k < indices.length && k < outcomes.length; k++) {
      const i: unknown = indices[k];
      if (typeof i === "number" && Number.isInteger(i) && i >= 0 && i < jobs.length && !settled[i]) {
        settle(i, acceptAnswer(outcomes[k], jobs[i]!, duration, coldOf(i)));
      }
    }
  };
  const opts = jobs.map((job) => callOpts(job, p.wrapOffset));
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
  } finally {
    for (const t of timers) clearTimeout(t);
    dispose(entry);
    dispose(stub);
  }
}

/** Receives each job's Outcome JSON as soon as that job has one (index into the batch). */
export type Emit = (index: number, outcome: string) => void;

/**
 * Runs a batch and emits each job's outcome when it finishes, so a slow or runaway job holds back
 * no neighbour. Jobs sharing cache_id and code go to their isolate in one RPC call, the rest one by one.
 */
export async function runBatch(loader: WorkerLoader, jobs: Job[], emit: Emit): Promise<void> {
  const groups = new Map<string, number[]>();
  jobs.forEach((job, i) => {
    if (job.cache_id === null) return;
    const key = `${job.cache_id.length}:${job.cache_id}:${job.code}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const work: Promise<void>[] = [];
  const grouped = new Set<number>();
  for (const idx of groups.values()) {
    if (idx.length < 2) continue;
    for (const i of idx) grouped.add(i);
    const sub = idx.map((i) => jobs[i]!);
    work.push(runGroup(loader, sub[0]!.cache_id!, sub, (k, text) => emit(idx[k]!, text)));
  }
  jobs.forEach((job, i) => {
    if (grouped.has(i)) return;
    work.push(runJob(loader, job).then((o) => emit(i, o)));
  });
  await Promise.all(work);
}
