// Typed client for the dymunim HTTP API. Errors are `application/problem+json`
// ({title, status, detail}); `ApiError.message` is the `detail` a person can act on.
import { getToken, requireSignIn } from "./auth";
import type {
  Health,
  Job,
  JobId,
  JobPage,
  JobStatus,
  JobSubmit,
  Metrics,
  QueueInfo,
  QueueMessage,
  SavedWorker,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Reads a problem+json body (or any text) into the message shown to the user. */
export async function problemOf(res: Response): Promise<ApiError> {
  let title = res.statusText || `HTTP ${res.status}`;
  let detail = "";
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { title?: string; detail?: unknown };
    if (body.title) title = body.title;
    if (typeof body.detail === "string") detail = body.detail;
    else if (Array.isArray(body.detail)) {
      // FastAPI validation errors: [{loc, msg}]
      detail = body.detail
        .map((d: { loc?: unknown[]; msg?: string }) =>
          [d.loc?.filter((p) => p !== "body").join("."), d.msg].filter(Boolean).join(": "),
        )
        .join("; ");
    } else if (body.detail != null) detail = JSON.stringify(body.detail);
  } catch {
    detail = text.slice(0, 300);
  }
  return new ApiError(res.status, title, detail || title);
}

export async function request<T>(
  method: string,
  path: string,
  opts: { query?: Query; body?: unknown; auth?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = getToken();
  if (token && opts.auth !== false) headers.Authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "Network error", "Cannot reach the dymunim server. Is `dymunim up` running?");
  }
  if (!res.ok) {
    const err = await problemOf(res);
    // A first visit without a token is no error; a rejected token is worth saying so.
    if (res.status === 401 && opts.auth !== false) requireSignIn(token ? err.message : null);
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export interface JobFilters {
  status?: JobStatus;
  cache_id?: string;
  q?: string;
}

export const api = {
  /** The detailed report (pids, processes) needs the token; the open /health only says up or down. */
  health: (signal?: AbortSignal) => request<Health>("GET", "/api/health", { signal }),
  /** Checks a token without touching the stored one (used by the sign-in screen). */
  checkToken: async (token: string) => {
    const res = await fetch("/api/jobs?limit=1", { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw await problemOf(res);
  },
  listJobs: (f: JobFilters & { limit?: number; cursor?: string | null }, signal?: AbortSignal) =>
    request<JobPage>("GET", "/api/jobs", { query: { ...f }, signal }),
  getJob: (id: JobId, signal?: AbortSignal) => request<Job>("GET", `/api/jobs/${id}`, { signal }),
  submitJob: (body: JobSubmit, wait?: number) =>
    request<Job>("POST", "/api/jobs", { body, query: { wait } }),
  retryJob: (id: JobId) => request<Job>("POST", `/api/jobs/${id}/retry`),
  cancelJob: (id: JobId) => request<Job>("POST", `/api/jobs/${id}/cancel`),
  metrics: (rangeMinutes: number, signal?: AbortSignal) =>
    request<Metrics>("GET", "/api/metrics", { query: { range_minutes: rangeMinutes }, signal }),
  queues: (signal?: AbortSignal) => request<{ queues: QueueInfo[] }>("GET", "/api/queues", { signal }),
  queueMessages: (name: string, limit = 20) =>
    request<{ messages: QueueMessage[] }>("GET", `/api/queues/${encodeURIComponent(name)}/messages`, {
      query: { limit },
    }),
  deadLetters: (signal?: AbortSignal) =>
    request<{ messages: QueueMessage[] }>("GET", "/api/dead-letters", { signal }),
  replayDeadLetter: (msgId: number) =>
    request<{ job_id: JobId }>("POST", `/api/dead-letters/${msgId}/replay`),
  replayAllDeadLetters: () => request<{ replayed: number }>("POST", "/api/dead-letters/replay-all"),
  purgeDeadLetters: () =>
    request<{ purged: number }>("DELETE", "/api/dead-letters", { query: { confirm: true } }),
  listWorkers: () => request<{ workers: SavedWorker[] }>("GET", "/api/workers"),
  saveWorker: (body: { name: string; code: string; cache_id?: string }) =>
    request<SavedWorker>("POST", "/api/workers", { body }),
};

/** Query keys in one place, so live updates and pages agree on them. */
export const keys = {
  jobs: ["jobs"] as const,
  jobList: (f: JobFilters) => ["jobs", "list", f] as const,
  job: (id: JobId) => ["jobs", "detail", id] as const,
  metrics: (range: number) => ["metrics", range] as const,
  metricsAll: ["metrics"] as const,
  health: ["health"] as const,
  queues: ["queues"] as const,
  deadLetters: ["dead-letters"] as const,
  workers: ["workers"] as const,
};
