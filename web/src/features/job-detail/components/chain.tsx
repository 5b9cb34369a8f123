import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ArrowRightIcon, CalendarClockIcon, CornerDownRightIcon, CornerLeftUpIcon, ZapIcon } from "lucide-react";
import type * as React from "react";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import type { Job } from "@/lib/types";

function Row({ icon, label, children }: { icon: React.ReactNode; label: string; children: React.ReactNode }) {
  return (
    <div className="flex flex-col gap-1">
      <p className="flex items-center gap-1.5 text-xs text-muted-foreground">
        {icon}
        {label}
      </p>
      <div className="pl-5 text-sm">{children}</div>
    </div>
  );
}

/**
 * Where the job comes from and what it started: the schedule or event that created it, the job that
 * enqueued it, the jobs it enqueued, and the whole chain (every job sharing its trace id).
 */
export function Chain({ job }: { job: Job }) {
  const parentId = job.parent_job_id;
  const parent = useQuery({
    queryKey: keys.job(parentId ?? 0),
    queryFn: ({ signal }) => api.getJob(parentId!, signal),
    enabled: parentId != null,
  });
  const children = useQuery({
    queryKey: keys.jobChildren(job.job_id),
    queryFn: ({ signal }) => api.listJobs({ parent_job_id: job.job_id, limit: 50 }, signal),
  });
  // Its name from the list, not GET /api/schedules/{id}: a deleted schedule's jobs keep its id, and a 404
  // per page view would be noise in every console.
  const schedules = useQuery({
    queryKey: keys.scheduleList(undefined),
    queryFn: ({ signal }) => api.listSchedules({}, signal),
    enabled: job.schedule_id != null,
  });
  const schedule = { data: schedules.data?.schedules.find((s) => s.schedule_id === job.schedule_id) };
  const event = useQuery({
    queryKey: keys.publishedEvent(job.event_id ?? 0),
    queryFn: ({ signal }) => api.getPublished(job.event_id!, signal),
    enabled: job.event_id != null,
    retry: false,
  });
  const kids = children.data?.jobs ?? [];

  return (
    <Card data-testid="job-chain">
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle>Chain</CardTitle>
        {job.trace_id && (
          <Link
            to="/jobs"
            search={{ trace_id: job.trace_id }}
            className="inline-flex items-center gap-1 text-xs text-primary hover:underline"
          >
            Whole chain <ArrowRightIcon className="size-3" />
          </Link>
        )}
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        {job.schedule_id != null && (
          <Row icon={<CalendarClockIcon className="size-3.5" />} label="Fired by the schedule">
            <span className="flex flex-wrap items-center gap-x-2">
              <Link to="/schedules" className="font-medium hover:underline" data-testid="job-schedule">
                {schedule.data?.name ?? job.schedule_id}
              </Link>
              <Link
                to="/jobs"
                search={{ schedule_id: job.schedule_id }}
                className="text-xs text-primary hover:underline"
              >
                its runs
              </Link>
            </span>
          </Row>
        )}
        {job.event_id != null && (
          <Row icon={<ZapIcon className="size-3.5" />} label="Started by the event">
            <span className="flex flex-wrap items-center gap-x-2">
              {event.data ? (
                <Link
                  to="/events"
                  search={{ name: event.data.name }}
                  className="font-mono font-medium hover:underline"
                  data-testid="job-event"
                >
                  {event.data.name}
                </Link>
              ) : null}
              <span className="font-mono text-xs text-muted-foreground">#{job.event_id}</span>
              <Link to="/jobs" search={{ event_id: job.event_id }} className="text-xs text-primary hover:underline">
                its jobs
              </Link>
            </span>
          </Row>
        )}
        {parentId != null && (
          <Row icon={<CornerLeftUpIcon className="size-3.5" />} label="Started by the job">
            <span className="flex items-center gap-2" data-testid="job-parent">
              <Link
                to="/jobs/$jobId"
                params={{ jobId: String(parentId) }}
                className="font-mono font-medium text-primary hover:underline"
              >
                #{parentId}
              </Link>
              {parent.data && <StatusBadge status={parent.data.status} />}
            </span>
          </Row>
        )}
        <Row icon={<CornerDownRightIcon className="size-3.5" />} label="Jobs it started">
          {children.isPending ? (
            <Skeleton className="h-6" />
          ) : children.isError ? (
            <p className="text-xs text-destructive">{children.error.message}</p>
          ) : kids.length === 0 ? (
            <p className="text-xs text-muted-foreground">None.</p>
          ) : (
            <ul className="flex flex-col gap-1" data-testid="job-children">
              {kids.map((k) => (
                <li key={k.job_id} className="flex items-center gap-2">
                  <Link
                    to="/jobs/$jobId"
                    params={{ jobId: String(k.job_id) }}
                    className="font-mono text-primary hover:underline"
                  >
                    #{k.job_id}
                  </Link>
                  <StatusBadge status={k.status} />
                  {k.worker_id && (
                    <span className="truncate font-mono text-xs text-muted-foreground">{k.worker_id}</span>
                  )}
                </li>
              ))}
              {children.data?.next_cursor && (
                <li>
                  <Link
                    to="/jobs"
                    search={{ parent_job_id: job.job_id }}
                    className="text-xs text-primary hover:underline"
                  >
                    All of them
                  </Link>
                </li>
              )}
            </ul>
          )}
        </Row>
      </CardContent>
    </Card>
  );
}
