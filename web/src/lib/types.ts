// The API's JSON shapes, named for the UI. Each comes from the server's OpenAPI document
// (web/openapi.json, written by `dymunim openapi`; api.gen.ts, written from it by `npm run gen:api`;
// `make api-client` does both). This file only gives them the names the components use, so a
// regenerated client changes this one file, if any. What the document leaves open (free-form health
// details, status-keyed counts) is narrowed here, each marked with why.
import type { components } from "./api.gen";

type Schemas = components["schemas"];

/** `T` with some fields said more precisely than the server's schema says them. */
type Narrow<T, Fields extends { [K in keyof T]?: unknown }> = Omit<T, keyof Fields> & Fields;

export type JobStatus = Schemas["JobStatus"];

/** The statuses in the order the UI lists them; the compiler holds the list equal to the server's. */
export const JOB_STATUSES = [
  "queued",
  "running",
  "sleeping",
  "waiting",
  "succeeded",
  "failed",
  "retrying",
  "dead",
  "cancelled",
] as const satisfies readonly JobStatus[];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const everyStatusListed: Same<(typeof JOB_STATUSES)[number], JobStatus> = true;
void everyStatusListed;

export type JobId = number;
export type JobError = Schemas["JobError"];
export type LogLine = Schemas["LogLine"];
export type JobEvent = Schemas["JobEvent"];
/** One finished (or lost) attempt of a job. */
export type JobAttempt = Schemas["JobAttempt"];
/** One job with everything it holds (GET /api/jobs/{id}). */
export type Job = Schemas["Job"];
/** A job as lists show it: no code, payload or logs; the result as a short JSON preview. */
export type JobSummary = Schemas["JobSummary"];
export type JobPage = Schemas["JobPage"];
/** The body of POST /api/jobs. */
export type JobSubmit = Schemas["JobSpec"];
/** One step of a workflow run (step.do, step.sleep, step.waitForEvent), as it stands. */
export type Step = Schemas["Step"];
export type StepKind = Step["kind"];
export type StepStatus = Step["status"];
/** What a `waiting` run waits for: the step and the event type, and when that wait times out. */
export type WaitingFor = Schemas["WaitingFor"];
/** An event sent to a run (POST /api/jobs/{id}/events); `taken_by` is the step that received it. */
export type InboxEvent = Schemas["InboxEvent"];
/** The body of POST /api/jobs/{id}/events. */
export type SendEventIn = Schemas["RunEventIn"];
/** Its answer: `delivered_to` is the waiting step it woke, null when kept until the run waits for it. */
export type SentEvent = Schemas["SentEvent"];
/** One line of the /api/events stream. */
export type LiveEvent = Schemas["LiveEvent"];

export type Percentiles = Schemas["Percentiles"];
/** The schema keys counts by any string; they are job statuses. */
export type Metrics = Narrow<Schemas["Metrics"], { counts: Partial<Record<JobStatus, number>> }>;

export type QueueInfo = Schemas["QueueInfo"];
export type QueueMessage = Schemas["QueueMessage"];

/** A saved worker with its versions, recent jobs, schedules and subscriptions (GET /api/workers/{id}). */
export type SavedWorker = Schemas["SavedWorker"];
/** A row of GET /api/workers: the current version, the last run and the recent failure rate. */
export type WorkerSummary = Schemas["WorkerSummary"];
/** One immutable version of a saved worker (its code only in GET /api/workers/{id}/versions/{n}). */
export type WorkerVersion = Schemas["WorkerVersion"];
/** The body of POST /api/workers. */
export type SavedWorkerIn = Schemas["WorkerIn"];
/** The body of POST /api/workers/{id}/run. */
export type WorkerRun = Schemas["RunIn"];

/** A cron schedule; `code` and `recent_fires` only in GET /api/schedules/{id}. */
export type Schedule = Schemas["Schedule"];
export type ScheduleFire = Schemas["ScheduleFire"];
/** The body of POST /api/schedules. */
export type ScheduleIn = Schemas["ScheduleIn"];
export type SchedulePatch = Schemas["SchedulePatch"];
/** GET /api/schedules/preview: the next fire times of an expression, with the zone's offset. */
export type SchedulePreview = Schemas["Preview"];
export type Misfire = ScheduleIn["misfire"];

/** One event of GET /api/events/published, with the jobs it started. */
export type PublishedEvent = Schemas["PublishedEvent"];
export type EventJob = Schemas["EventJob"];
export type EventPage = Schemas["EventPage"];
/** The body of POST /api/events/publish. */
export type PublishIn = Schemas["PublishIn"];
export type PublishOut = Schemas["PublishOut"];

/** A worker run for every event whose name matches `pattern`. */
export type Subscription = Schemas["Subscription"];

/** Every error answer (application/problem+json); `detail` is the sentence to show. */
export type Problem = Schemas["Problem"];

/** One named check of GET /api/health: up or down, a short reason, and its own detail fields. */
export type HealthCheck = Schemas["CheckOut"];

// The schema leaves each check's detail open (new checks appear as new keys); what the UI reads of
// the known ones is said here.
export interface ExecutorProcess {
  index: number;
  pid: number | null;
  port: number | null;
  ready: boolean;
  in_flight: number;
  restarts: number;
  rss_mb: number | null;
}

export interface DispatcherAlive {
  id: string;
  pid: number;
  hostname: string;
  in_flight: number;
  last_seen: string;
}

/** GET /api/health (token): every check with its detail. */
export type Health = Narrow<
  Schemas["Health"],
  {
    checks: {
      database?: HealthCheck;
      executor?: HealthCheck & { processes?: ExecutorProcess[] };
      dispatchers?: HealthCheck & { alive?: DispatcherAlive[] };
      postgres?: HealthCheck & { restarts?: number; last_restart_at?: string | null };
      [name: string]: HealthCheck | undefined;
    };
  }
>;
