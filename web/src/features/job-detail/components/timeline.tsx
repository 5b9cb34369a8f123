import { formatClock, formatDateTime } from "@/lib/format";
import { previewJson } from "@/lib/json";
import { statusStyle } from "@/lib/status";
import type { JobEvent } from "@/lib/types";
import { cn } from "@/lib/utils";

export function Timeline({ events }: { events: JobEvent[] }) {
  if (!events.length) return <p className="text-sm text-muted-foreground">No lifecycle events recorded.</p>;
  // The server sends a job's history oldest first; transitions read from the job's row have no event_id.
  const ordered = events;
  return (
    <ol className="relative flex flex-col gap-4" data-testid="timeline">
      {ordered.map((e, i) => {
        const st = statusStyle(e.to_status);
        return (
          <li key={`${e.to_status}-${e.attempt}-${e.at}`} className="relative flex gap-3 pl-0.5">
            {i < ordered.length - 1 && <span className="absolute top-4 bottom-[-1rem] left-[5px] w-px bg-border" />}
            <span className={cn("relative mt-1.5 size-2.5 shrink-0 rounded-full ring-4 ring-card", st.dot)} />
            <div className="min-w-0 flex-1">
              <p className="text-sm">
                {e.from_status && (
                  <>
                    <span className="text-muted-foreground">{statusStyle(e.from_status).label}</span>
                    <span className="mx-1 text-muted-foreground">→</span>
                  </>
                )}
                <span className="font-medium">{st.label}</span>
              </p>
              <p className="mt-0.5 text-xs text-muted-foreground">
                <time dateTime={e.at} title={formatDateTime(e.at)} className="font-mono tabular-nums">
                  {formatClock(e.at)}
                </time>
                {e.attempt > 0 && <span> · attempt {e.attempt}</span>}
              </p>
              {e.detail != null && Object.keys(e.detail).length > 0 && (
                <p className="mt-1 font-mono text-xs break-words text-muted-foreground" title={previewJson(e.detail, 2000)}>
                  {previewJson(e.detail, 160)}
                </p>
              )}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
