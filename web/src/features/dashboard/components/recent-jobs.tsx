import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import type * as React from "react";
import { RelativeTime } from "@/components/relative-time";
import { EmptyState, ErrorState } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { clip } from "@/lib/json";
import type { JobStatus } from "@/lib/types";

export function RecentJobs({
  title,
  status,
  queryKey,
  empty,
  limit = 8,
  action,
  before,
}: {
  title: string;
  status?: JobStatus;
  queryKey: readonly unknown[];
  empty: string;
  limit?: number;
  action?: React.ReactNode;
  /** Rows above the jobs (the dashboard's upcoming scheduled runs). */
  before?: React.ReactNode;
}) {
  const q = useQuery({
    queryKey: [...queryKey, limit],
    queryFn: ({ signal }) => api.listJobs({ status, limit }, signal),
  });
  return (
    <Card>
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle>{title}</CardTitle>
        {action}
      </CardHeader>
      <div className="px-2 pb-2">
        {before}
        {q.isPending ? (
          <div className="flex flex-col gap-2 p-3">
            {[0, 1, 2].map((i) => (
              <Skeleton key={i} className="h-8" />
            ))}
          </div>
        ) : q.isError ? (
          <ErrorState error={q.error} className="m-3" />
        ) : q.data.jobs.length === 0 ? (
          <EmptyState title={empty} className="m-3 py-6">
            {!status && (
              <Link to="/workers/new" className="text-primary hover:underline">
                Open the editor
              </Link>
            )}
          </EmptyState>
        ) : (
          <ul className="divide-y">
            {q.data.jobs.map((j) => (
              <li key={j.job_id}>
                <Link
                  to="/jobs/$jobId"
                  params={{ jobId: String(j.job_id) }}
                  className="flex items-center gap-3 rounded-md px-3 py-2 text-sm hover:bg-muted/50"
                >
                  <span className="w-16 shrink-0 font-mono text-xs text-muted-foreground">#{j.job_id}</span>
                  <StatusBadge status={j.status} />
                  <span className="min-w-0 flex-1 truncate font-mono text-xs text-muted-foreground">
                    {j.error
                      ? `${j.error.name}: ${j.error.message}`
                      : j.status === "succeeded"
                        ? clip(j.result_preview ?? "", 60)
                        : (j.cache_id ?? "")}
                  </span>
                  <span className="hidden w-16 text-right text-xs text-muted-foreground tabular-nums sm:block">
                    {formatDuration(j.duration_ms)}
                  </span>
                  <RelativeTime value={j.created_at} className="w-16 text-right text-xs text-muted-foreground" />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}
