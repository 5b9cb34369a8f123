import { Link } from "@tanstack/react-router";
import { WorkflowIcon } from "lucide-react";
import { JobOrigin } from "@/components/job-origin";
import { RelativeTime } from "@/components/relative-time";
import { StatusBadge } from "@/components/status-badge";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatDuration } from "@/lib/format";
import { clip } from "@/lib/json";
import type { JobSummary } from "@/lib/types";

function outcome(j: JobSummary): { text: string; error: boolean } {
  if (j.error) return { text: `${j.error.name}: ${j.error.message}`, error: true };
  if (j.status === "succeeded") return { text: clip(j.result_preview ?? "", 70), error: false };
  return { text: "", error: false };
}

export function JobsTable({ jobs }: { jobs: JobSummary[] }) {
  return (
    <Table data-testid="jobs-table">
      <TableHeader>
        <TableRow className="hover:bg-transparent">
          <TableHead className="w-24">Job</TableHead>
          <TableHead>Status</TableHead>
          <TableHead>Cache / worker</TableHead>
          <TableHead>Started by</TableHead>
          <TableHead className="text-right">Attempts</TableHead>
          <TableHead className="text-right">Duration</TableHead>
          <TableHead>Start</TableHead>
          <TableHead>Outcome</TableHead>
          <TableHead className="text-right">Created</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {jobs.map((j) => {
          const o = outcome(j);
          return (
            <TableRow key={j.job_id} data-job-id={j.job_id}>
              <TableCell>
                <Link
                  to="/jobs/$jobId"
                  params={{ jobId: String(j.job_id) }}
                  className="font-mono text-xs font-medium text-primary hover:underline"
                >
                  #{j.job_id}
                </Link>
              </TableCell>
              <TableCell>
                <span className="flex items-center gap-1.5">
                  <StatusBadge status={j.status} />
                  {j.steps != null && (
                    <span
                      data-testid="step-count"
                      title={`A workflow run: ${j.steps} ${j.steps === 1 ? "step" : "steps"} recorded`}
                      className="inline-flex items-center gap-1 rounded-md bg-muted px-1.5 py-0.5 text-[11px] whitespace-nowrap text-muted-foreground tabular-nums"
                    >
                      <WorkflowIcon className="size-3" />
                      {j.steps} {j.steps === 1 ? "step" : "steps"}
                    </span>
                  )}
                </span>
              </TableCell>
              <TableCell className="max-w-44 truncate font-mono text-xs text-muted-foreground">
                {j.worker_id ? (
                  <Link
                    to="/workers/$workerId"
                    params={{ workerId: j.worker_id }}
                    search={{ version: j.worker_version ?? undefined }}
                    className="hover:text-foreground hover:underline"
                    title={`Worker ${j.worker_id}${j.worker_version != null ? `, version ${j.worker_version}` : ""}`}
                  >
                    {j.worker_id}
                    {j.worker_version != null && <span className="ml-1 text-foreground">v{j.worker_version}</span>}
                  </Link>
                ) : (
                  (j.cache_id ?? "—")
                )}
              </TableCell>
              <TableCell>
                <JobOrigin job={j} />
              </TableCell>
              <TableCell className="text-right text-xs tabular-nums">
                {j.attempts}
                <span className="text-muted-foreground">/{j.max_attempts}</span>
              </TableCell>
              <TableCell className="text-right text-xs tabular-nums">{formatDuration(j.duration_ms)}</TableCell>
              <TableCell className="text-xs text-muted-foreground">
                {j.cold_start == null ? "—" : j.cold_start ? "cold" : "warm"}
              </TableCell>
              <TableCell
                className={`max-w-80 truncate font-mono text-xs ${o.error ? "text-red-600 dark:text-red-400" : "text-muted-foreground"}`}
                title={o.text}
              >
                {o.text || "—"}
              </TableCell>
              <TableCell className="text-right text-xs text-muted-foreground">
                <RelativeTime value={j.created_at} />
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
