import type { JobStatus, StepStatus } from "./types";

export const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "dead", "cancelled"]);
export const RETRYABLE: ReadonlySet<string> = new Set(["failed", "dead"]);
// A running job is never cancelled (its attempt is in flight); a workflow between calls is.
export const CANCELLABLE: ReadonlySet<string> = new Set(["queued", "retrying", "sleeping", "waiting"]);

export const isTerminal = (s: string) => TERMINAL.has(s);
export const canRetry = (s: string) => RETRYABLE.has(s);
export const canCancel = (s: string) => CANCELLABLE.has(s);

/** Badge and dot colours per status (Tailwind classes, light and dark). */
export const STATUS_STYLE: Record<JobStatus, { badge: string; dot: string; label: string }> = {
  queued: {
    label: "Queued",
    badge: "bg-slate-500/10 text-slate-700 ring-slate-500/25 dark:text-slate-300",
    dot: "bg-slate-400",
  },
  running: {
    label: "Running",
    badge: "bg-sky-500/10 text-sky-700 ring-sky-500/30 dark:text-sky-300",
    dot: "bg-sky-500",
  },
  sleeping: {
    label: "Sleeping",
    badge: "bg-indigo-500/10 text-indigo-700 ring-indigo-500/30 dark:text-indigo-300",
    dot: "bg-indigo-400",
  },
  waiting: {
    label: "Waiting",
    badge: "bg-violet-500/10 text-violet-700 ring-violet-500/30 dark:text-violet-300",
    dot: "bg-violet-500",
  },
  succeeded: {
    label: "Succeeded",
    badge: "bg-emerald-500/10 text-emerald-700 ring-emerald-500/30 dark:text-emerald-300",
    dot: "bg-emerald-500",
  },
  failed: {
    label: "Failed",
    badge: "bg-red-500/10 text-red-700 ring-red-500/30 dark:text-red-300",
    dot: "bg-red-500",
  },
  retrying: {
    label: "Retrying",
    badge: "bg-amber-500/10 text-amber-700 ring-amber-500/30 dark:text-amber-300",
    dot: "bg-amber-500",
  },
  dead: {
    label: "Dead",
    badge: "bg-fuchsia-500/10 text-fuchsia-700 ring-fuchsia-500/30 dark:text-fuchsia-300",
    dot: "bg-fuchsia-500",
  },
  cancelled: {
    label: "Cancelled",
    badge: "bg-zinc-500/10 text-zinc-600 ring-zinc-500/25 dark:text-zinc-400",
    dot: "bg-zinc-400",
  },
};

export function statusStyle(s: string) {
  return (
    STATUS_STYLE[s as JobStatus] ?? {
      label: s,
      badge: "bg-muted text-muted-foreground ring-border",
      dot: "bg-muted-foreground",
    }
  );
}

/**
 * A workflow step's colours: `badge` as for jobs, `bar` for its waterfall bar. A step that is under
 * way (retrying, sleeping, waiting) borrows the job status it keeps the run in.
 */
export const STEP_STYLE: Record<StepStatus, { badge: string; dot: string; bar: string; label: string }> = {
  completed: {
    label: "Completed",
    badge: STATUS_STYLE.succeeded.badge,
    dot: STATUS_STYLE.succeeded.dot,
    bar: "bg-emerald-500/80",
  },
  failed: { label: "Failed", badge: STATUS_STYLE.failed.badge, dot: STATUS_STYLE.failed.dot, bar: "bg-red-500/80" },
  retrying: {
    label: "Retrying",
    badge: STATUS_STYLE.retrying.badge,
    dot: STATUS_STYLE.retrying.dot,
    bar: "bg-amber-500/80",
  },
  sleeping: {
    label: "Sleeping",
    badge: STATUS_STYLE.sleeping.badge,
    dot: STATUS_STYLE.sleeping.dot,
    bar: "bg-indigo-400/80",
  },
  waiting: {
    label: "Waiting",
    badge: STATUS_STYLE.waiting.badge,
    dot: STATUS_STYLE.waiting.dot,
    bar: "bg-violet-500/80",
  },
  timed_out: {
    label: "Timed out",
    badge: "bg-orange-500/10 text-orange-700 ring-orange-500/30 dark:text-orange-300",
    dot: "bg-orange-500",
    bar: "bg-orange-500/80",
  },
};

export function stepStyle(s: string) {
  return (
    STEP_STYLE[s as StepStatus] ?? {
      label: s,
      badge: "bg-muted text-muted-foreground ring-border",
      dot: "bg-muted-foreground",
      bar: "bg-muted-foreground/60",
    }
  );
}
