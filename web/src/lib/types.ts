// The API's JSON shapes, as the control plane reads them (see DESIGN.md, "The control plane").

export const JOB_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "retrying",
  "dead",
  "cancelled",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export type JobId = number;

export interface JobError {
  name?: string;
  message?: string;
  stack?: string;
}

export interface LogLine {
  level: string;
  at: string | number;
  message: string;
}

export interface JobEvent {
  event_id: number;
  from_status: string | null;
  to_status: string;
  attempt: number;
  at: string;
  detail: unknown;
}

export interface Job {
  job_id: JobId;
  status: JobStatus;
  payload: unknown;
  result: unknown;
  error: JobError | null;
  code: string;
  code_hash: string;
  language: string;
  worker_id: string | null;
  cache_id: string | null;
  execution_logs: LogLine[];
  logs_truncated: boolean;
  attempts: number;
  max_attempts: number;
  timeout_ms: number;
  retry_on_error: boolean;
  idempotency_key: string | null;
  trace_id: string | null;
  msg_id: number | null;
  run_at: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  cold_start: boolean | null;
  events?: JobEvent[] | null;
  attempt_history?: JobAttempt[] | null;
}

/** One finished (or lost) attempt of a job. */
export interface JobAttempt {
  attempt: number;
  outcome: "succeeded" | "failed" | "retrying" | "dead" | "lost";
  started_at: string | null;
  finished_at: string;
  duration_ms: number | null;
  cold_start: boolean | null;
  error: JobError | null;
}

export interface JobPage {
  jobs: Job[];
  next_cursor: string | null;
}

export interface JobSubmit {
  code: string;
  payload: unknown;
  cache_id?: string;
  timeout_ms?: number;
  max_attempts?: number;
  idempotency_key?: string;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Metrics {
  counts: Partial<Record<JobStatus, number>>;
  total: number;
  success_rate: number | null;
  throughput: { minute: string; succeeded: number; failed: number }[];
  queue_wait_ms: Percentiles;
  exec_ms: Percentiles;
  cold: { cold: number; warm: number; cold_p50_ms: number | null; warm_p50_ms: number | null };
  top_failing: { cache_id: string | null; failures: number }[];
}

export interface QueueInfo {
  queue_name: string;
  queue_length: number;
  newest_msg_age_sec: number | null;
  oldest_msg_age_sec: number | null;
  total_messages: number;
}

export interface QueueMessage {
  msg_id: number;
  read_ct: number;
  enqueued_at: string;
  vt: string;
  message: unknown;
}

export interface SavedWorker {
  worker_id: string;
  name: string;
  code: string;
  cache_id: string | null;
  created_at: string;
}

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

/** GET /api/health (token): every check with its detail. New checks appear as new keys. */
export interface Health {
  ok: boolean;
  checks: {
    database?: HealthCheck;
    executor?: HealthCheck & { processes?: ExecutorProcess[] };
    dispatchers?: HealthCheck & { alive?: DispatcherAlive[] };
    postgres?: HealthCheck & { restarts?: number; last_restart_at?: string | null };
    [name: string]: HealthCheck | undefined;
  };
}

/** One line of the /api/events stream. */
export interface LiveEvent {
  event_id: number;
  job_id: JobId;
  status: JobStatus;
  from: JobStatus | null;
  attempt: number;
  at: string;
}
