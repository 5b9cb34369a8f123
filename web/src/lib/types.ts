// The API's JSON shapes, named for the UI. Each comes from the server's OpenAPI document
// (web/openapi.json, written by `dymunim openapi`; api.gen.ts, written from it by `npm run gen:api`;
// `make api-client` does both). This file only gives them the names the components use, so a
// regenerated client changes this one file, if any. Only what the document cannot say is written
// here by hand, each marked with why.
import type { components, paths } from "./api.gen";

type Schemas = components["schemas"];

/** `T` with some fields said more precisely than the server's schema says them today. */
type Narrow<T, Fields extends { [K in keyof T]?: unknown }> = Omit<T, keyof Fields> & Fields;

export const JOB_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "retrying",
  "dead",
  "cancelled",
] as const;
/** The filter of GET /api/jobs lists the statuses (Job.status is still a plain string there). */
export type JobStatus = NonNullable<NonNullable<paths["/api/jobs"]["get"]["parameters"]["query"]>["status"]>;

// JOB_STATUSES is the list the UI iterates; the compiler holds it equal to the server's statuses.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statusesMatch: Same<(typeof JOB_STATUSES)[number], JobStatus> = true;
void statusesMatch;

export type JobId = number;

/** Hand-written: the server types `error` as any JSON. */
export interface JobError {
  name?: string;
  message?: string;
  stack?: string | null;
}

/** Hand-written: the server types `execution_logs` as a list of any JSON. */
export interface LogLine {
  level: string;
  at: string | number;
  message: string;
}

export type JobEvent = Narrow<Schemas["JobEvent"], { from_status: JobStatus | null; to_status: JobStatus }>;

/** One finished (or lost) attempt of a job. */
export type JobAttempt = Narrow<
  Schemas["JobAttempt"],
  { outcome: "succeeded" | "failed" | "retrying" | "dead" | "lost"; error?: JobError | null }
>;

export type Job = Narrow<
  Schemas["Job"],
  {
    status: JobStatus;
    error?: JobError | null;
    execution_logs: LogLine[];
    events?: JobEvent[] | null;
    attempt_history?: JobAttempt[] | null;
  }
>;

export type JobPage = Narrow<Schemas["JobPage"], { jobs: Job[] }>;

/** The body of POST /api/jobs. */
export type JobSubmit = Schemas["JobSpec"];

export type Percentiles = Schemas["Percentiles"];

export type Metrics = Narrow<Schemas["Metrics"], { counts: Partial<Record<JobStatus, number>> }>;

export type QueueInfo = Schemas["QueueInfo"];

export type QueueMessage = Schemas["Message"];

export type SavedWorker = Narrow<Schemas["Worker"], { recent_jobs?: Job[] | null }>;

/** The body of POST /api/workers. */
export type SavedWorkerIn = Schemas["WorkerIn"];

// Hand-written: GET /api/health answers a free-form object in the schema (new checks appear as new
// keys), so its shape is written here.

export interface ExecutorProcess {
  index: number;
  pid: number | null;
  port: number | null;
  ready: boolean;
  in_flight: number;
  restarts: number;
  rss_mb: number | null;
}

/** One named check of GET /api/health: up or down, a short reason, and its own detail fields. */
export interface HealthCheck {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

export interface DispatcherAlive {
  id: string;
  pid: number;
  hostname: string;
  in_flight: number;
  last_seen: string;
}

/** GET /api/health (token): every check with its detail. New checks appear as new keys. (A type, not
 * an interface, so it stays assignable to the schema's free-form object.) */
export type Health = {
  ok: boolean;
  checks: {
    database?: HealthCheck;
    executor?: HealthCheck & { processes?: ExecutorProcess[] };
    dispatchers?: HealthCheck & { alive?: DispatcherAlive[] };
    postgres?: HealthCheck & { restarts?: number; last_restart_at?: string | null };
    [name: string]: HealthCheck | undefined;
  };
};

/** Hand-written: one line of the /api/events stream (server-sent events are not in the schema). */
export interface LiveEvent {
  event_id: number;
  job_id: JobId;
  status: JobStatus;
  from: JobStatus | null;
  attempt: number;
  at: string;
}
