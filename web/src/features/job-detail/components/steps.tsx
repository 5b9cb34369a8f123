import { ChevronRightIcon, WorkflowIcon } from "lucide-react";
import { useState } from "react";
import { JobError } from "@/components/job-error";
import { JobLogs } from "@/components/job-logs";
import { JsonBlock } from "@/components/json-block";
import { RelativeTime } from "@/components/relative-time";
import { EmptyState } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { formatClock, formatDateTime, formatDuration, toDate } from "@/lib/format";
import { previewJson } from "@/lib/json";
import { isTerminal } from "@/lib/status";
import type { Job, Step } from "@/lib/types";
import { cn } from "@/lib/utils";
import { describeConfig } from "@/lib/workflow";
import { SendEventButton } from "./send-event-dialog";
import { KIND_ICON, KIND_LABEL, Waterfall } from "./waterfall";

/** Step statuses that keep the run between calls. */
const UNDER_WAY = new Set(["retrying", "sleeping", "waiting"]);

function Mono({ children }: { children: React.ReactNode }) {
  return <code className="font-mono text-foreground">{children}</code>;
}

function At({ value }: { value: string | null }) {
  return (
    <time dateTime={value ?? undefined} title={formatDateTime(value)} className="font-mono tabular-nums">
      {formatClock(value)}
    </time>
  );
}

/** One line saying what the step did or is doing, in words. */
function StepSummary({ step, live }: { step: Step; live: boolean }) {
  const event = step.event_type ? <Mono>{step.event_type}</Mono> : "an event";
  switch (`${step.kind}:${step.status}`) {
    case "do:completed":
      return <>Returned {step.result === null ? <Mono>null</Mono> : <Mono>{previewJson(step.result, 90)}</Mono>}</>;
    case "do:failed":
      return <span className="text-red-600 dark:text-red-400">Threw {errorLine(step)}</span>;
    case "do:retrying":
      return (
        <>
          <span className="text-amber-700 dark:text-amber-400">Threw {errorLine(step)}</span>
          {live && step.until && (
            <>
              ; tries again <RelativeTime value={step.until} />
            </>
          )}
        </>
      );
    case "sleep:sleeping":
      return (
        <>
          Sleeps until <At value={step.until} />
        </>
      );
    case "sleep:completed":
      return (
        <>
          Slept until <At value={step.finished_at ?? step.until} />
        </>
      );
    case "wait:waiting":
      return (
        <>
          Waits for {event}
          {step.until ? (
            <>
              , times out <RelativeTime value={step.until} />
            </>
          ) : (
            ", with no timeout"
          )}
        </>
      );
    case "wait:completed":
      return (
        <>
          Received {event} at <At value={step.finished_at} />
        </>
      );
    case "wait:timed_out":
      return (
        <span className="text-orange-700 dark:text-orange-400">
          No {event} came before <At value={step.until ?? step.finished_at} />
        </span>
      );
    default:
      return step.error ? <span className="text-red-600 dark:text-red-400">{errorLine(step)}</span> : null;
  }
}

function errorLine(step: Step): string {
  return step.error ? `${step.error.name}: ${step.error.message}` : "an error";
}

/** How long the step took, or has taken so far ("…" while under way). */
function stepDuration(step: Step, now: number, live: boolean): string {
  if (step.kind === "do" && step.duration_ms != null) return formatDuration(step.duration_ms);
  const start = toDate(step.started_at)?.getTime();
  const end = toDate(step.finished_at)?.getTime();
  if (start == null) return "—";
  if (end != null) return formatDuration(end - start);
  return live ? `${formatDuration(now - start)}…` : "—";
}

function StepRow({ step, live, now }: { step: Step; live: boolean; now: number }) {
  const hasValue = step.error != null || (step.result !== null && step.result !== undefined);
  const hasLogs = (step.logs?.length ?? 0) > 0;
  const hasOutput = hasValue || hasLogs;
  const [open, setOpen] = useState(step.status === "failed" || step.status === "retrying");
  const Icon = KIND_ICON[step.kind];
  const config = describeConfig(step.config);
  const outputLabel = step.error ? "Error" : !hasValue ? "Logs" : step.kind === "wait" ? "Event" : "Result";
  return (
    <li data-testid="step" data-step={step.name} data-status={step.status} className="py-2.5 first:pt-0 last:pb-0">
      <div className="flex min-w-0 items-center gap-2">
        <span className="w-5 shrink-0 text-right font-mono text-xs text-muted-foreground tabular-nums">{step.seq}</span>
        <span
          className="flex size-6 shrink-0 items-center justify-center rounded-md bg-muted text-muted-foreground"
          title={KIND_LABEL[step.kind]}
        >
          <Icon className="size-3.5" aria-label={KIND_LABEL[step.kind]} />
        </span>
        <span className="min-w-0 truncate font-mono text-sm font-medium" data-testid="step-name">
          {step.name}
        </span>
        <StatusBadge step status={step.status} pulse={live && UNDER_WAY.has(step.status)} />
        <span className="ml-auto flex shrink-0 items-center gap-3 text-xs text-muted-foreground">
          {step.kind === "do" && step.attempts > 1 && (
            <span data-testid="step-attempts" title="How often its callback ran">
              {step.attempts} tries
            </span>
          )}
          <span className="w-[4.5rem] text-right font-mono tabular-nums">{stepDuration(step, now, live)}</span>
          {hasOutput ? (
            <button
              type="button"
              onClick={() => setOpen((o) => !o)}
              aria-expanded={open}
              aria-label={`${open ? "Hide" : "Show"} the ${outputLabel.toLowerCase()} of step ${step.name}`}
              className="inline-flex w-16 cursor-pointer items-center gap-0.5 rounded px-1 py-0.5 hover:bg-accent hover:text-foreground"
            >
              <ChevronRightIcon className={cn("size-3.5 transition-transform", open && "rotate-90")} />
              {outputLabel}
            </button>
          ) : (
            <span className="w-16" />
          )}
        </span>
      </div>
      <p className="mt-0.5 pl-[3.25rem] text-xs break-words text-muted-foreground">
        <StepSummary step={step} live={live} />
        {config && <span className="ml-2 whitespace-nowrap opacity-80">· {config}</span>}
      </p>
      {open && hasOutput && (
        <div className="mt-2 flex flex-col gap-2 pl-[3.25rem]">
          {step.error ? (
            <JobError error={step.error} testid="step-error" />
          ) : (
            hasValue && (
              <JsonBlock value={step.result} label={`Step ${step.name} ${outputLabel.toLowerCase()}`} testid="step-result" />
            )
          )}
          {hasLogs && (
            <div>
              <p className="mb-1 text-xs font-medium text-muted-foreground">What its last call logged</p>
              <JobLogs logs={step.logs} testid="step-logs" />
            </div>
          )}
        </div>
      )}
    </li>
  );
}

/** A workflow run's steps: the waterfall of the run, then each step with what it returned or threw. */
export function StepsCard({ job, now, onSend }: { job: Job; now: number; onSend: () => void }) {
  const steps = [...(job.step_history ?? [])].sort((a, b) => a.seq - b.seq);
  const live = !isTerminal(job.status);
  return (
    <Card data-testid="workflow-steps">
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle className="flex items-center gap-2">
          <WorkflowIcon className="size-4 text-muted-foreground" />
          Steps
          <span className="rounded bg-muted px-1.5 text-xs font-normal text-muted-foreground tabular-nums">
            {steps.length}
          </span>
        </CardTitle>
        {live && <SendEventButton onClick={onSend} variant="outline" size="sm" />}
      </CardHeader>
      <CardContent className="flex flex-col gap-5">
        <Waterfall job={job} steps={steps} now={now} />
        {steps.length === 0 ? (
          <EmptyState title="No steps yet" className="py-6" icon={<WorkflowIcon className="size-5" />}>
            Each step shows here once the run has reached it.
          </EmptyState>
        ) : (
          <ol className="flex flex-col divide-y" data-testid="step-list">
            {steps.map((s) => (
              <StepRow key={s.name} step={s} live={live} now={now} />
            ))}
          </ol>
        )}
      </CardContent>
    </Card>
  );
}
