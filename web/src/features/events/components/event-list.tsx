import { Link } from "@tanstack/react-router";
import { ChevronRightIcon, CornerLeftUpIcon, ZapIcon } from "lucide-react";
import { JsonBlock } from "@/components/json-block";
import { RelativeTime } from "@/components/relative-time";
import { StatusBadge } from "@/components/status-badge";
import { shortHash } from "@/lib/format";
import { previewJson } from "@/lib/json";
import type { PublishedEvent } from "@/lib/types";

/** Published events, newest first: what was published, when, and the job each subscriber got. */
export function EventList({
  events,
  workerNames,
}: {
  events: PublishedEvent[];
  workerNames: ReadonlyMap<string, string>;
}) {
  const now = Date.now();
  return (
    <ul className="divide-y" data-testid="event-list">
      {events.map((e) => {
        const later = e.run_at && Date.parse(e.run_at) > now;
        return (
          <li
            key={e.event_id}
            className="flex flex-col gap-2 px-5 py-3"
            data-testid="event-row"
            data-event-id={e.event_id}
          >
            <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm">
              <ZapIcon className="size-4 shrink-0 text-amber-500" />
              <Link
                to="/events"
                search={{ name: e.name }}
                className="font-mono font-medium hover:underline"
                title="Only events of this name"
              >
                {e.name}
              </Link>
              <span className="font-mono text-xs text-muted-foreground">#{e.event_id}</span>
              <RelativeTime value={e.created_at} className="text-xs text-muted-foreground" />
              {later && (
                <span className="text-xs text-amber-600 dark:text-amber-400">
                  jobs start <RelativeTime value={e.run_at} />
                </span>
              )}
              {e.source_job_id != null && (
                <Link
                  to="/jobs/$jobId"
                  params={{ jobId: String(e.source_job_id) }}
                  className="inline-flex items-center gap-1 text-xs text-muted-foreground hover:text-foreground"
                >
                  <CornerLeftUpIcon className="size-3" /> from job <span className="font-mono">#{e.source_job_id}</span>
                </Link>
              )}
              {e.trace_id && (
                <Link
                  to="/jobs"
                  search={{ trace_id: e.trace_id }}
                  className="ml-auto font-mono text-xs text-muted-foreground hover:text-foreground hover:underline"
                  title={`Every job of trace ${e.trace_id}`}
                >
                  trace {shortHash(e.trace_id, 16)}
                </Link>
              )}
            </div>
            <details className="group pl-7">
              <summary className="flex cursor-pointer list-none items-center gap-1.5 text-xs text-muted-foreground hover:text-foreground">
                <ChevronRightIcon className="size-3 shrink-0 transition-transform group-open:rotate-90" />
                <span className="min-w-0 truncate font-mono" data-testid="event-data">
                  {e.data === null ? "no data" : previewJson(e.data, 120)}
                </span>
                {e.idempotency_key && <span className="shrink-0">· key {e.idempotency_key}</span>}
              </summary>
              <JsonBlock value={e.data} label="Event data" className="mt-2" />
            </details>
            <div className="flex flex-wrap items-center gap-2 pl-7" data-testid="event-jobs">
              {e.jobs.length === 0 ? (
                <span className="text-xs text-muted-foreground">No subscriber: nothing started.</span>
              ) : (
                e.jobs.map((j) => (
                  <Link
                    key={j.job_id}
                    to="/jobs/$jobId"
                    params={{ jobId: String(j.job_id) }}
                    className="inline-flex items-center gap-2 rounded-lg border bg-card px-2 py-1 text-xs hover:bg-muted/50"
                    data-job-id={j.job_id}
                  >
                    <span className="font-mono text-primary">#{j.job_id}</span>
                    {j.worker_id && (
                      <span className="max-w-40 truncate text-muted-foreground">
                        {workerNames.get(j.worker_id) ?? j.worker_id}
                      </span>
                    )}
                    <StatusBadge status={j.status} />
                  </Link>
                ))
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
