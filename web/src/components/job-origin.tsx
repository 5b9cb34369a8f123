import { Link } from "@tanstack/react-router";
import { CalendarClockIcon, CornerLeftUpIcon, ZapIcon } from "lucide-react";
import type { JobSummary } from "@/lib/types";

type Origin = Pick<JobSummary, "schedule_id" | "event_id" | "parent_job_id">;

/** What started a job, in a few words: a schedule, an event, another job; nothing for a direct submit. */
export function JobOrigin({ job, links = true }: { job: Origin; links?: boolean }) {
  const cls = "inline-flex items-center gap-1 text-xs text-muted-foreground";
  if (job.parent_job_id != null)
    return (
      <span className={cls} data-origin="parent">
        <CornerLeftUpIcon className="size-3" />
        {links ? (
          <Link
            to="/jobs/$jobId"
            params={{ jobId: String(job.parent_job_id) }}
            className="font-mono text-primary hover:underline"
          >
            #{job.parent_job_id}
          </Link>
        ) : (
          <span className="font-mono">#{job.parent_job_id}</span>
        )}
      </span>
    );
  if (job.event_id != null)
    return (
      <span className={cls} data-origin="event">
        <ZapIcon className="size-3" />
        {links ? (
          <Link to="/jobs" search={{ event_id: job.event_id }} className="font-mono hover:underline">
            event {job.event_id}
          </Link>
        ) : (
          <span className="font-mono">event {job.event_id}</span>
        )}
      </span>
    );
  if (job.schedule_id != null)
    return (
      <span className={cls} data-origin="schedule">
        <CalendarClockIcon className="size-3" />
        {links ? (
          <Link to="/jobs" search={{ schedule_id: job.schedule_id }} className="hover:underline">
            schedule
          </Link>
        ) : (
          "schedule"
        )}
      </span>
    );
  return <span className="text-xs text-muted-foreground">—</span>;
}
