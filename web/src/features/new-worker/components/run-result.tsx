import type { UseMutationResult } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ArrowRightIcon } from "lucide-react";
import { JobError } from "@/components/job-error";
import { JobLogs } from "@/components/job-logs";
import { JsonBlock } from "@/components/json-block";
import { ErrorState } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDuration } from "@/lib/format";
import { isTerminal } from "@/lib/status";
import type { Job } from "@/lib/types";

/** The outcome of a run started from a page (the editor's code, or a saved worker): whatever it was sent. */
export function RunResult<V>({
  mutation,
  title = "Run",
}: {
  mutation: UseMutationResult<Job, Error, V>;
  title?: string;
}) {
  if (mutation.isIdle) return null;
  return (
    <Card className="mt-6" data-testid="run-result">
      <CardHeader className="flex-row flex-wrap items-center justify-between gap-2">
        <CardTitle>{title}</CardTitle>
        {mutation.data && (
          <div className="flex items-center gap-3 text-xs text-muted-foreground">
            <StatusBadge status={mutation.data.status} />
            <span>{formatDuration(mutation.data.duration_ms)}</span>
            {mutation.data.cold_start != null && <span>{mutation.data.cold_start ? "cold" : "warm"}</span>}
            {mutation.data.worker_version != null && (
              <span className="font-mono" data-testid="run-version">
                v{mutation.data.worker_version}
              </span>
            )}
            <Link
              to="/jobs/$jobId"
              params={{ jobId: String(mutation.data.job_id) }}
              className="inline-flex items-center gap-1 font-mono text-primary hover:underline"
            >
              job #{mutation.data.job_id} <ArrowRightIcon className="size-3" />
            </Link>
          </div>
        )}
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        {mutation.isPending ? (
          <Skeleton className="h-20" />
        ) : mutation.isError ? (
          <ErrorState title="The job was not accepted" error={mutation.error} />
        ) : (
          mutation.data && <Outcome job={mutation.data} />
        )}
      </CardContent>
    </Card>
  );
}

function Outcome({ job }: { job: Job }) {
  return (
    <>
      {job.status === "sleeping" || job.status === "waiting" ? (
        <p className="text-sm text-muted-foreground" data-testid="run-between-steps">
          The workflow {job.status === "sleeping" ? "sleeps" : "waits for an event"} between steps; follow it, and
          send it events, on the{" "}
          <Link to="/jobs/$jobId" params={{ jobId: String(job.job_id) }} className="text-primary hover:underline">
            job page
          </Link>
          .
        </p>
      ) : (
        !isTerminal(job.status) && (
          <p className="text-sm text-muted-foreground">
            Still {job.status} after 30 s of waiting; follow it on the job page.
          </p>
        )
      )}
      {job.error && <JobError error={job.error} />}
      {job.status === "succeeded" && (
        <div>
          <p className="mb-1.5 text-xs font-medium text-muted-foreground">Result</p>
          <JsonBlock value={job.result} label="Result" testid="result-json" />
        </div>
      )}
      <div>
        <p className="mb-1.5 text-xs font-medium text-muted-foreground">Logs</p>
        <JobLogs logs={job.execution_logs} truncated={job.logs_truncated} />
      </div>
    </>
  );
}
