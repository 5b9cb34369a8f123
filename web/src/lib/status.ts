import type { JobStatus } from "./types";

export const TERMINAL: ReadonlySet<string> = new Set(["succeeded", "failed", "dead", "cancelled"]);
export const RETRYABLE: ReadonlySet<string> = new Set(["failed", "dead"]);
export const CANCELLABLE: ReadonlySet<string> = new Set(["queued", "retrying"]);

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
