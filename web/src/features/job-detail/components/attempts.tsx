import { formatClock, formatDateTime, formatDuration } from "@/lib/format";
import { statusStyle } from "@/lib/status";
import type { JobAttempt } from "@/lib/types";
import { cn } from "@/lib/utils";

/** Each attempt's own outcome: the job row keeps only the latest attempt's result and logs. */
export function Attempts({ attempts }: { attempts: JobAttempt[] }) {
  return (
    <ol className="flex flex-col divide-y text-sm" data-testid="attempt-history">
      {attempts.map((a) => {
        const st = a.outcome === "lost" ? null : statusStyle(a.outcome);
        return (
          <li key={a.attempt} className="flex flex-col gap-0.5 py-2 first:pt-0 last:pb-0">
            <div className="flex items-center gap-2">
              <span className="font-mono text-xs text-muted-foreground">#{a.attempt}</span>
              <span className={cn("size-2 rounded-full", st ? st.dot : "bg-amber-500")} />
              <span className="font-medium">{st ? st.label : "Lost"}</span>
              <span className="ml-auto font-mono text-xs tabular-nums text-muted-foreground">
                {formatDuration(a.duration_ms)}
              </span>
            </div>
            <p className="text-xs text-muted-foreground">
              <time dateTime={a.finished_at} title={formatDateTime(a.finished_at)} className="font-mono">
                {formatClock(a.finished_at)}
              </time>
              {a.error && (
                <span className="ml-2 break-words text-red-600 dark:text-red-400">
                  {a.error.name}: {a.error.message}
                </span>
              )}
            </p>
          </li>
        );
      })}
    </ol>
  );
}
