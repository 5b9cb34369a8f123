import { Link } from "@tanstack/react-router";
import { ArrowRightIcon } from "lucide-react";
import { JobOrigin } from "@/components/job-origin";
import { RelativeTime } from "@/components/relative-time";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatDuration } from "@/lib/format";
import { clip } from "@/lib/json";
import type { JobSummary } from "@/lib/types";

export function RecentRuns({ workerId, jobs }: { workerId: string; jobs: JobSummary[] }) {
  return (
    <Card className="overflow-hidden" data-testid="recent-runs">
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle>Recent runs</CardTitle>
        {jobs.length > 0 && (
          <Link
            to="/jobs"
            search={{ worker_id: workerId }}
            className="inline-flex items-center gap-1 text-xs text-primary hover:underline"
          >
            All runs <ArrowRightIcon className="size-3" />
          </Link>
        )}
      </CardHeader>
      {jobs.length === 0 ? (
        <p className="mx-5 mb-5 rounded-lg border border-dashed px-3 py-6 text-center text-sm text-muted-foreground">
          Not run yet. Give it a payload and press Run.
        </p>
      ) : (
        <Table>
          <TableHeader>
            <TableRow className="hover:bg-transparent">
              <TableHead className="pl-5">Job</TableHead>
              <TableHead>Status</TableHead>
              <TableHead>Version</TableHead>
              <TableHead>Started by</TableHead>
              <TableHead>Outcome</TableHead>
              <TableHead className="text-right">Duration</TableHead>
              <TableHead className="pr-5 text-right">Created</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {jobs.map((j) => (
              <TableRow key={j.job_id} data-job-id={j.job_id}>
                <TableCell className="pl-5">
                  <Link
                    to="/jobs/$jobId"
                    params={{ jobId: String(j.job_id) }}
                    className="font-mono text-xs font-medium text-primary hover:underline"
                  >
                    #{j.job_id}
                  </Link>
                </TableCell>
                <TableCell>
                  <StatusBadge status={j.status} />
                </TableCell>
                <TableCell className="font-mono text-xs">
                  {j.worker_version != null ? `v${j.worker_version}` : "—"}
                </TableCell>
                <TableCell>
                  <JobOrigin job={j} />
                </TableCell>
                <TableCell
                  className={`max-w-56 truncate font-mono text-xs ${j.error ? "text-red-600 dark:text-red-400" : "text-muted-foreground"}`}
                >
                  {j.error ? `${j.error.name}: ${j.error.message}` : clip(j.result_preview ?? "", 50) || "—"}
                </TableCell>
                <TableCell className="text-right text-xs tabular-nums">{formatDuration(j.duration_ms)}</TableCell>
                <TableCell className="pr-5 text-right text-xs text-muted-foreground">
                  <RelativeTime value={j.created_at} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Card>
  );
}
