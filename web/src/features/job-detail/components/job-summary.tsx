import { Link } from "@tanstack/react-router";
import type * as React from "react";
import { RelativeTime } from "@/components/relative-time";
import { Card } from "@/components/ui/card";
import { Tooltip } from "@/components/ui/tooltip";
import { formatDateTime, formatDuration, shortHash } from "@/lib/format";
import type { Job } from "@/lib/types";

function Field({ label, children, mono }: { label: string; children: React.ReactNode; mono?: boolean }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className={`mt-0.5 truncate text-sm ${mono ? "font-mono text-[13px]" : ""}`}>{children}</dd>
    </div>
  );
}

const NEXT_RUN_LABEL = { retrying: "Retries at", queued: "Runs at", sleeping: "Wakes at" } as const;

export function JobSummary({ job }: { job: Job }) {
  return (
    <Card className="px-5 py-4">
      <dl className="grid grid-cols-2 gap-x-6 gap-y-4 sm:grid-cols-3 lg:grid-cols-6">
        <Field label="Attempts">
          <span data-testid="attempts">{job.attempts}</span>
          <span className="text-muted-foreground"> / {job.max_attempts}</span>
        </Field>
        <Field label="Duration">{formatDuration(job.duration_ms)}</Field>
        <Field label="Start">{job.cold_start == null ? "—" : job.cold_start ? "Cold" : "Warm"}</Field>
        <Field label="Timeout">{formatDuration(job.timeout_ms)}</Field>
        <Field label="Cache id" mono>
          {job.cache_id ?? "—"}
        </Field>
        <Field label="Worker" mono>
          {job.worker_id ? (
            <Link
              to="/workers/$workerId"
              params={{ workerId: job.worker_id }}
              search={{ version: job.worker_version ?? undefined }}
              className="text-primary hover:underline"
              data-testid="job-worker"
            >
              {job.worker_id}
              {job.worker_version != null && <span className="ml-1">v{job.worker_version}</span>}
            </Link>
          ) : (
            "—"
          )}
        </Field>
        <Field label="Created">
          <Tooltip content={formatDateTime(job.created_at)}>
            <span>
              <RelativeTime value={job.created_at} />
            </span>
          </Tooltip>
        </Field>
        {job.status === "waiting" && job.waiting_for?.timeout_at ? (
          <Field label="Times out">
            <Tooltip content={formatDateTime(job.waiting_for.timeout_at)}>
              <span data-testid="next-run" className="font-medium text-violet-700 dark:text-violet-300">
                <RelativeTime value={job.waiting_for.timeout_at} />
              </span>
            </Tooltip>
          </Field>
        ) : (job.status === "retrying" || job.status === "queued" || job.status === "sleeping") && job.run_at ? (
          <Field label={NEXT_RUN_LABEL[job.status]}>
            <Tooltip content={formatDateTime(job.run_at)}>
              <span
                data-testid="next-run"
                className={
                  job.status === "sleeping"
                    ? "font-medium text-indigo-700 dark:text-indigo-300"
                    : "font-medium text-amber-600 dark:text-amber-400"
                }
              >
                <RelativeTime value={job.run_at} />
              </span>
            </Tooltip>
          </Field>
        ) : (
          <Field label="Started">{formatDateTime(job.started_at)}</Field>
        )}
        <Field label="Finished">{formatDateTime(job.finished_at)}</Field>
        <Field label="Code hash" mono>
          <span title={job.code_hash}>{shortHash(job.code_hash, 12)}</span>
        </Field>
        <Field label="Idempotency key" mono>
          {job.idempotency_key ?? "—"}
        </Field>
        <Field label="Trace id" mono>
          {job.trace_id ? (
            <Link
              to="/jobs"
              search={{ trace_id: job.trace_id }}
              title={`Every job of trace ${job.trace_id}`}
              className="hover:underline"
            >
              {shortHash(job.trace_id, 16)}
            </Link>
          ) : (
            "—"
          )}
        </Field>
      </dl>
    </Card>
  );
}
