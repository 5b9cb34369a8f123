// The client for the dymunim HTTP API, on openapi-fetch: every path, parameter and body is typed by
// `paths` in api.gen.ts, which `npm run gen:api` writes from web/openapi.json (`dymunim openapi`),
// so a route the server renames or a parameter it drops fails `npm run typecheck`, not the browser.
//
// Errors are `application/problem+json` ({type, title, status, detail}, detail a string; see
// src/dymunim/api/errors.py); `ApiError.message` is that `detail`, the sentence a person can act on.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./api.gen";
import { getToken, requireSignIn } from "./auth";
import type {
  EventPage,
  Health,
  Job,
  JobId,
  JobPage,
  JobStatus,
  JobSubmit,
  Metrics,
  PublishIn,
  PublishOut,
  QueueInfo,
  Problem,
  QueueMessage,
  SavedWorker,
  SavedWorkerIn,
  Schedule,
  ScheduleIn,
  SchedulePatch,
  SchedulePreview,
  SendEventIn,
  SentEvent,
  Subscription,
  WorkerRun,
  WorkerSummary,
  WorkerVersion,
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

/** Query strings without the empty filters a form leaves behind (undefined, null, ""). */
export function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  return params.toString();
}

/** The message shown for a failed answer: its problem's `detail`, else its title, else the text. */
export function problemOf(status: number, statusText: string, body: unknown): ApiError {
  let title = statusText || `HTTP ${status}`;
  let detail = "";
  if (body && typeof body === "object" && !Array.isArray(body)) {
    // A Problem from dymunim; checked member by member, since a proxy in between may answer otherwise.
    const p = body as Partial<Record<keyof Problem, unknown>>;
    if (typeof p.title === "string" && p.title) title = p.title;
    if (typeof p.detail === "string") detail = p.detail;
    else if (p.detail != null) detail = JSON.stringify(p.detail).slice(0, 300);
  } else if (typeof body === "string") {
    detail = body.slice(0, 300);
  } else if (body != null) {
    detail = JSON.stringify(body).slice(0, 300);
  }
  return new ApiError(status, title, detail || title);
}

/** The stored token on every request that does not bring its own (sign-in checks a new one). */
const bearer: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export interface ClientOptions {
  /** Where the API is; "" (the default) is the page's own origin. */
  baseUrl?: string;
  /** Defaults to the global fetch, looked up on each call (tests replace it). */
  fetch?: (request: Request) => Promise<Response>;
}

export function createApiClient(opts: ClientOptions = {}) {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl ?? "",
    fetch: opts.fetch ?? ((request) => globalThis.fetch(request)),
    headers: { Accept: "application/json" },
    querySerializer: queryString,
  });
  client.use(bearer);
  return client;
}

/** What every openapi-fetch call resolves to, whatever its path. */
interface Answer<D> {
  data?: D;
  error?: unknown;
  response: Response;
}

/**
 * Awaits a call: its data, or an ApiError carrying the problem's detail. A 401 shows the sign-in
 * screen (`signIn: false` for the sign-in check itself). `T` may narrow the generated type where
 * types.ts still says more than the server's schema (see there); it must stay assignable to it.
 */
export async function unwrap<D, T extends D = D>(call: Promise<Answer<D>>, signIn = true): Promise<T> {
  let answer: Answer<D>;
  try {
    answer = await call;
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "Network error", "Cannot reach the dymunim server. Is `dymunim up` running?");
  }
  const { response } = answer;
  if (!response.ok) {
    const err = problemOf(response.status, response.statusText, answer.error);
    // A first visit without a token is no error; a rejected token is worth saying so.
    if (response.status === 401 && signIn) requireSignIn(getToken() ? err.message : null);
    throw err;
  }
  return answer.data as T;
}

export interface JobFilters {
  status?: JobStatus;
  cache_id?: string;
  q?: string;
  /** A saved worker's runs. */
  worker_id?: string;
  /** A whole chain: every job sharing the trace id. */
  trace_id?: string;
  schedule_id?: string;
  event_id?: number;
  /** The children of a job. */
  parent_job_id?: JobId;
}

export function createApi(client = createApiClient()) {
  return {
    /** The detailed report (pids, processes) needs the token; the open /health only says up or down. */
    health: (signal?: AbortSignal): Promise<Health> => unwrap(client.GET("/api/health", { signal })),
    /** Checks a token without touching the stored one (used by the sign-in screen). */
    checkToken: async (token: string): Promise<void> => {
      await unwrap(
        client.GET("/api/jobs", {
          params: { query: { limit: 1 } },
          headers: { Authorization: `Bearer ${token}` },
        }),
        false,
      );
    },
    listJobs: (
      f: JobFilters & { limit?: number; cursor?: string | null },
      signal?: AbortSignal,
    ): Promise<JobPage> => unwrap(client.GET("/api/jobs", { params: { query: f }, signal })),
    getJob: (id: JobId, signal?: AbortSignal): Promise<Job> =>
      unwrap(client.GET("/api/jobs/{job_id}", { params: { path: { job_id: id } }, signal })),
    submitJob: (body: JobSubmit, wait?: number): Promise<Job> =>
      unwrap(client.POST("/api/jobs", { body, params: { query: { wait } } })),
    retryJob: (id: JobId): Promise<Job> =>
      unwrap(client.POST("/api/jobs/{job_id}/retry", { params: { path: { job_id: id } } })),
    cancelJob: (id: JobId): Promise<Job> =>
      unwrap(client.POST("/api/jobs/{job_id}/cancel", { params: { path: { job_id: id } } })),
    /** An event for a workflow run: wakes the step waiting for its type, else waits in the run's inbox. */
    sendEvent: (id: JobId, body: SendEventIn): Promise<SentEvent> =>
      unwrap(client.POST("/api/jobs/{job_id}/events", { params: { path: { job_id: id } }, body })),
    metrics: (rangeMinutes: number, signal?: AbortSignal): Promise<Metrics> =>
      unwrap(client.GET("/api/metrics", { params: { query: { range_minutes: rangeMinutes } }, signal })),
    queues: (signal?: AbortSignal): Promise<{ queues: QueueInfo[] }> =>
      unwrap(client.GET("/api/queues", { signal })),
    queueMessages: (name: string, limit = 20): Promise<{ messages: QueueMessage[] }> =>
      unwrap(client.GET("/api/queues/{name}/messages", { params: { path: { name }, query: { limit } } })),
    deadLetters: (signal?: AbortSignal): Promise<{ messages: QueueMessage[] }> =>
      unwrap(client.GET("/api/dead-letters", { signal })),
    replayDeadLetter: (msgId: number) =>
      unwrap(client.POST("/api/dead-letters/{msg_id}/replay", { params: { path: { msg_id: msgId } } })),
    replayAllDeadLetters: () => unwrap(client.POST("/api/dead-letters/replay-all")),
    purgeDeadLetters: () =>
      unwrap(client.DELETE("/api/dead-letters", { params: { query: { confirm: true } } })),
    listWorkers: (
      f: { q?: string; limit?: number } = {},
      signal?: AbortSignal,
    ): Promise<{ workers: WorkerSummary[] }> => unwrap(client.GET("/api/workers", { params: { query: f }, signal })),
    saveWorker: (body: SavedWorkerIn): Promise<SavedWorker> => unwrap(client.POST("/api/workers", { body })),
    getWorker: (id: string, signal?: AbortSignal): Promise<SavedWorker> =>
      unwrap(client.GET("/api/workers/{worker_id}", { params: { path: { worker_id: id } }, signal })),
    /** Saves code as the worker's next version; the same code as the current one keeps its number. */
    saveWorkerVersion: (id: string, code: string): Promise<SavedWorker> =>
      unwrap(client.POST("/api/workers/{worker_id}/versions", { params: { path: { worker_id: id } }, body: { code } })),
    getWorkerVersion: (id: string, version: number, signal?: AbortSignal): Promise<WorkerVersion> =>
      unwrap(
        client.GET("/api/workers/{worker_id}/versions/{version}", {
          params: { path: { worker_id: id, version } },
          signal,
        }),
      ),
    runWorker: (id: string, body: WorkerRun, wait?: number): Promise<Job> =>
      unwrap(
        client.POST("/api/workers/{worker_id}/run", { params: { path: { worker_id: id }, query: { wait } }, body }),
      ),

    listSchedules: (f: { worker_id?: string } = {}, signal?: AbortSignal): Promise<{ schedules: Schedule[] }> =>
      unwrap(client.GET("/api/schedules", { params: { query: f }, signal })),
    getSchedule: (id: string, signal?: AbortSignal): Promise<Schedule> =>
      unwrap(client.GET("/api/schedules/{schedule_id}", { params: { path: { schedule_id: id } }, signal })),
    createSchedule: (body: ScheduleIn): Promise<Schedule> => unwrap(client.POST("/api/schedules", { body })),
    updateSchedule: (id: string, body: SchedulePatch): Promise<Schedule> =>
      unwrap(client.PATCH("/api/schedules/{schedule_id}", { params: { path: { schedule_id: id } }, body })),
    deleteSchedule: (id: string) =>
      unwrap(client.DELETE("/api/schedules/{schedule_id}", { params: { path: { schedule_id: id } } })),
    pauseSchedule: (id: string): Promise<Schedule> =>
      unwrap(client.POST("/api/schedules/{schedule_id}/pause", { params: { path: { schedule_id: id } } })),
    resumeSchedule: (id: string): Promise<Schedule> =>
      unwrap(client.POST("/api/schedules/{schedule_id}/resume", { params: { path: { schedule_id: id } } })),
    /** The next `n` fire times of an expression in a zone; a 422 says what is wrong with either. */
    previewSchedule: (cron: string, timezone: string, n = 5, signal?: AbortSignal): Promise<SchedulePreview> =>
      unwrap(client.GET("/api/schedules/preview", { params: { query: { cron, timezone, n } }, signal })),

    publishEvent: (body: PublishIn): Promise<PublishOut> => unwrap(client.POST("/api/events/publish", { body })),
    listPublished: (
      f: { name?: string; limit?: number; cursor?: string | null },
      signal?: AbortSignal,
    ): Promise<EventPage> => unwrap(client.GET("/api/events/published", { params: { query: f }, signal })),
    getPublished: (id: number, signal?: AbortSignal) =>
      unwrap(client.GET("/api/events/published/{event_id}", { params: { path: { event_id: id } }, signal })),

    listSubscriptions: (
      f: { worker_id?: string } = {},
      signal?: AbortSignal,
    ): Promise<{ subscriptions: Subscription[] }> =>
      unwrap(client.GET("/api/subscriptions", { params: { query: f }, signal })),
    subscribe: (workerId: string, pattern: string): Promise<Subscription> =>
      unwrap(client.POST("/api/subscriptions", { body: { worker_id: workerId, pattern } })),
    unsubscribe: (id: string) =>
      unwrap(client.DELETE("/api/subscriptions/{subscription_id}", { params: { path: { subscription_id: id } } })),
  };
}

export const api = createApi();

/** Query keys in one place, so live updates and pages agree on them. */
export const keys = {
  jobs: ["jobs"] as const,
  jobList: (f: JobFilters) => ["jobs", "list", f] as const,
  job: (id: JobId) => ["jobs", "detail", id] as const,
  /** The jobs a job started (a plain query, so not under "list", which holds paged lists only). */
  jobChildren: (id: JobId) => ["jobs", "children", id] as const,
  jobChildrenAll: ["jobs", "children"] as const,
  metrics: (range: number) => ["metrics", range] as const,
  metricsAll: ["metrics"] as const,
  health: ["health"] as const,
  queues: ["queues"] as const,
  deadLetters: ["dead-letters"] as const,
  /** Every saved-worker query (lists and details) starts with this. */
  workers: ["workers"] as const,
  workerList: (q: string | undefined) => ["workers", "list", q ?? ""] as const,
  worker: (id: string) => ["workers", "detail", id] as const,
  /** A version's code never changes: kept apart from `workers`, so live refreshes leave it alone. */
  workerVersion: (id: string, version: number) => ["worker-version", id, version] as const,
  schedules: ["schedules"] as const,
  scheduleList: (workerId: string | undefined) => ["schedules", "list", workerId ?? ""] as const,
  schedule: (id: string) => ["schedules", "detail", id] as const,
  schedulePreview: (cron: string, timezone: string) => ["schedule-preview", cron, timezone] as const,
  published: ["published"] as const,
  publishedList: (name: string | undefined) => ["published", "list", name ?? ""] as const,
  publishedEvent: (id: number) => ["published", "detail", id] as const,
  subscriptions: ["subscriptions"] as const,
};
