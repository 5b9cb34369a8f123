// How one /api/events line changes what the cache already holds. Pure functions: the EventSource
// wiring lives in live.ts. An event carries only status/attempt/time, so a patch makes the UI move
// at once and a (throttled) refetch fills in result, logs and timings afterwards.
import type { Job, JobPage, JobStatus, LiveEvent } from "./types";

export interface InfiniteJobs {
  pages: JobPage[];
  pageParams: unknown[];
}

/** Parses one SSE `data:` payload; anything malformed is ignored (returns null). */
export function parseLiveEvent(data: string): LiveEvent | null {
  try {
    const v = JSON.parse(data) as Partial<LiveEvent> & { to_status?: string; from_status?: string | null };
    if (typeof v !== "object" || v === null) return null;
    const jobId = Number(v.job_id);
    const status = v.status ?? v.to_status; // live events say status/from, table rows to_status/from_status
    if (v.job_id == null || !Number.isFinite(jobId) || typeof status !== "string") return null;
    return {
      event_id: Number(v.event_id ?? 0),
      job_id: jobId,
      status: status as JobStatus,
      from: (v.from ?? v.from_status ?? null) as JobStatus | null,
      attempt: Number(v.attempt ?? 0),
      at: String(v.at ?? new Date().toISOString()),
    };
  } catch {
    return null;
  }
}

function time(v: string | null | undefined): number {
  const t = v ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** What an event can patch: a whole job (detail page) and a list row alike. */
type Patchable = Pick<Job, "job_id" | "status" | "attempts" | "updated_at" | "started_at" | "finished_at">;

/** The job with the event applied, or the same object when the event is older than what we have. */
export function applyEventToJob<J extends Patchable>(job: J, ev: LiveEvent): J {
  if (job.job_id !== ev.job_id) return job;
  if (ev.attempt < job.attempts) return job; // a stale attempt's event (fencing)
  if (ev.attempt === job.attempts && time(ev.at) < time(job.updated_at)) return job;
  if (job.status === ev.status && job.attempts === ev.attempt) return job;
  return {
    ...job,
    status: ev.status,
    attempts: Math.max(job.attempts, ev.attempt),
    updated_at: ev.at,
    started_at: ev.status === "running" ? ev.at : job.started_at,
    finished_at:
      ev.status === "succeeded" || ev.status === "failed" || ev.status === "dead" || ev.status === "cancelled"
        ? ev.at
        : job.finished_at,
  };
}

export interface MergeResult {
  data: InfiniteJobs;
  /** The list cannot be made right from the event alone (a new job, or one that left the filter). */
  refetch: boolean;
}

/**
 * Applies an event to a job list that may be filtered by status. A job already listed is patched
 * in place; a job the list does not hold (a new one) asks for a refetch when it could belong there.
 */
export function applyEventToList(
  data: InfiniteJobs | undefined,
  ev: LiveEvent,
  filter: { status?: string; cache_id?: string; q?: string },
): MergeResult | null {
  if (!data) return null;
  let found = false;
  let changed = false;
  const pages = data.pages.map((page) => {
    let pageChanged = false;
    const jobs = page.jobs.map((j) => {
      if (j.job_id !== ev.job_id) return j;
      found = true;
      const next = applyEventToJob(j, ev);
      if (next !== j) pageChanged = true;
      return next;
    });
    if (!pageChanged) return page;
    changed = true;
    return { ...page, jobs };
  });
  if (found) {
    // A status-filtered list should drop a job that no longer matches: let the server decide.
    const leftFilter = !!filter.status && filter.status !== ev.status;
    return { data: changed ? { ...data, pages } : data, refetch: leftFilter };
  }
  const couldBelong = !filter.status || filter.status === ev.status;
  // Only the newest page can gain a job: ids grow, lists are newest first.
  const newest = data.pages[0]?.jobs[0]?.job_id ?? 0;
  return { data, refetch: couldBelong && ev.job_id > newest };
}
