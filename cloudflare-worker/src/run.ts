/**
 * Running one Job in a Dynamic Worker and producing its Outcome as JSON text.
 *
 * The Dynamic Worker's main module (sandbox.ts) does the per-call work: log
 * capture, timeout, result checks; it answers with
 *   {"ok":…,"result":…,"error":…,"logs":[…],"logs_truncated":…}
 * and this side adds "duration_ms" and "cold". Outcomes stay JSON text end to
 * end so a batch of results is joined, not re-parsed.
 */

import { type ErrorInfo, sha256hex, startupError, toUserModule, type UserModule, WRAP_HEADER } from "./code";
import type { Job } from "./job";
import { buildModules, DYNAMIC_COMPAT_DATE, DYNAMIC_COMPAT_FLAGS, MAIN_MODULE } from "./sandbox";

/** How long past timeout_ms the parent waits before it gives up on the Dynamic Worker itself. */
const PARENT_GRACE_MS = 2_000;

function workerCode(mod: UserModule): WorkerLoaderWorkerCode {
  return {
    compatibilityDate: DYNAMIC_COMPAT_DATE,
    compatibilityFlags: DYNAMIC_COMPAT_FLAGS,
    mainModule: MAIN_MODULE,
    modules: buildModules(mod.source),
    globalOutbound: null, // no network: fetch()/connect() are refused by the runtime
    env: {}, // no bindings
  };
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
  const mod = toUserModule(job.code);
  let cold = true;
  let stub: WorkerStub;
  if (job.cache_id !== null) {
    // The code hash is part of the id: the same id with new code would return the OLD isolate.
    const id = `${job.cache_id}:${await sha256hex(job.code)}`;
    cold = false;
    stub = loader.get(id, () => {
      cold = true;
      return workerCode(mod);
    });
  } else {
    stub = loader.load(workerCode(mod));
  }

  const entry = stub.getEntrypoint();
  const body = JSON.stringify({
    payload: job.payload,
    ctx: { job_id: job.job_id, attempt: job.attempt, trace_id: job.trace_id },
    timeout_ms: job.timeout_ms,
    max_log_lines: job.max_log_lines,
    max_log_bytes: job.max_log_bytes,
    max_result_bytes: job.max_result_bytes,
    wrap_offset: mod.wrapped ? WRAP_HEADER.length : 0,
  });
  const started = Date.now();
  try {
    const text = await withDeadline(
      (async () => {
        const resp = await entry.fetch("https://dymunim.internal/run", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const t = await resp.text();
        if (resp.status !== 200 || !t.startsWith('{"ok":') || !t.endsWith("}")) {
          throw new Error(`unexpected answer from the dynamic worker (HTTP ${resp.status}): ${t.slice(0, 500)}`);
        }
        return t;
      })(),
      job.timeout_ms + PARENT_GRACE_MS,
    );
    const duration = Date.now() - started;
    return `${text.slice(0, -1)},"duration_ms":${duration},"cold":${cold}}`;
  } catch (e) {
    const duration = Date.now() - started;
    if (e instanceof DeadlineError) {
      const message = `exceeded ${job.timeout_ms} ms`;
      return failedOutcome({ name: "TimeoutError", message, stack: `TimeoutError: ${message}` }, duration, cold);
    }
    const text = e instanceof Error ? e.message : String(e);
    const err = startupError(text, mod) ?? {
      name: "ExecutorError",
      message: `the dynamic worker failed: ${text}`,
      stack: e instanceof Error && e.stack ? e.stack : `ExecutorError: ${text}`,
    };
    return failedOutcome(err, duration, cold);
  } finally {
    dispose(entry);
    dispose(stub);
  }
}
