/**
 * dymunim executor: routing only. See README.md for the HTTP contract.
 *
 *   GET  /health  {"ok": true, "loader": bool}          (no auth)
 *   POST /load    Job -> Outcome                        fresh isolate (LOADER.load)
 *   POST /get     Job with cache_id -> Outcome          cached isolate (LOADER.get)
 *   POST /batch   {"jobs": Job[]} -> NDJSON, one line per job as it finishes:
 *                 {"index": i, ...Outcome}   (any order; every index exactly once)
 */

import { checkBearer, errorResponse, json, jsonText } from "./http";
import { BadRequest, type Job, parseBatch, parseJob } from "./job";
import { runBatch, runJob } from "./run";

export interface Env {
  LOADER?: WorkerLoader;
  /** Secret (`wrangler secret put EXECUTOR_TOKEN`); when non-empty every route but GET /health needs it as a bearer token. */
  EXECUTOR_TOKEN?: string;
}

const ROUTES: Record<string, string> = {
  "/health": "GET",
  "/load": "POST",
  "/get": "POST",
  "/batch": "POST",
};

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadRequest(`body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const encoder = new TextEncoder();

/**
 * Each outcome leaves as soon as its job finishes: an innocent neighbour of a runaway job is
 * recorded in milliseconds, not when the whole batch is done. Lines that finish together are
 * written as one chunk.
 */
function streamBatch(loader: WorkerLoader, jobs: Job[]): Response {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join("");
    pending = [];
    writer.write(encoder.encode(chunk)).catch(() => {});
  };
  const emit = (index: number, outcome: string): void => {
    pending.push(`{"index":${index},${outcome.slice(1)}\n`);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
  runBatch(loader, jobs, emit).then(
    () => {
      flush();
      return writer.close();
    },
    (e: unknown) => writer.abort(e),
  ).catch(() => {});
  return new Response(readable, { headers: { "content-type": "application/x-ndjson; charset=utf-8" } });
}

async function handle(request: Request, env: Env): Promise<Response> {
  const { pathname } = new URL(request.url);
  const method = request.method.toUpperCase();

  if (pathname === "/health" && method === "GET") {
    return json({ ok: true, loader: env.LOADER != null });
  }

  const token = typeof env.EXECUTOR_TOKEN === "string" ? env.EXECUTOR_TOKEN : "";
  if (token !== "" && !(await checkBearer(request, token))) {
    return errorResponse(401, "missing or wrong bearer token (Authorization: Bearer <EXECUTOR_TOKEN>)", {
      "www-authenticate": "Bearer",
    });
  }

  const allowed = ROUTES[pathname];
  if (allowed === undefined) return errorResponse(404, `no route ${method} ${pathname}`);
  if (allowed !== method) return errorResponse(405, `${pathname} takes ${allowed}`, { allow: allowed });

  const loader = env.LOADER;
  if (!loader) return errorResponse(503, "the LOADER (worker_loaders) binding is not configured");

  try {
    switch (pathname) {
      case "/load":
        // Always a fresh isolate, even when the job names a cache_id.
        return jsonText(await runJob(loader, { ...parseJob(await readJson(request)), cache_id: null }));
      case "/get":
        return jsonText(await runJob(loader, parseJob(await readJson(request), "", true)));
      case "/batch":
        return streamBatch(loader, parseBatch(await readJson(request)));
    }
  } catch (e) {
    if (e instanceof BadRequest) return errorResponse(400, e.message);
    throw e;
  }
  return errorResponse(404, `no route ${method} ${pathname}`);
}

export default {
  async fetch(request, env): Promise<Response> {
    try {
      return await handle(request, env);
    } catch (e) {
      return errorResponse(500, `executor error: ${e instanceof Error ? e.message : String(e)}`);
    }
  },
} satisfies ExportedHandler<Env>;
