import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { getRouteApi, Link } from "@tanstack/react-router";
import { ArrowLeftIcon, BanIcon, RotateCcwIcon } from "lucide-react";
import { CodeEditor } from "@/components/code-editor";
import { JobError } from "@/components/job-error";
import { JobLogs } from "@/components/job-logs";
import { JsonBlock } from "@/components/json-block";
import { EmptyState, ErrorState, errorMessage } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { api, keys } from "@/lib/api";
import { canCancel, canRetry, isTerminal } from "@/lib/status";
import type { Job } from "@/lib/types";
import { useNow } from "@/lib/use-now";
import { isWorkflow } from "@/lib/workflow";
import { JobSummary } from "./components/job-summary";
import { Attempts } from "./components/attempts";
import { Chain } from "./components/chain";
import { Inbox } from "./components/inbox";
import { SleepingCallout, WaitingCallout } from "./components/run-state";
import { SendEventDialog } from "./components/send-event-dialog";
import { StepsCard } from "./components/steps";
import { Timeline } from "./components/timeline";

const route = getRouteApi("/jobs/$jobId");

export function JobDetailPage() {
  const { jobId } = route.useParams();
  const id = Number(jobId);
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: keys.job(id),
    queryFn: ({ signal }) => api.getJob(id, signal),
    enabled: Number.isInteger(id) && id > 0,
  });
  const onDone = (job: Job) => {
    qc.setQueryData(keys.job(id), (old: Job | undefined) => ({ ...job, events: job.events ?? old?.events }));
    void qc.invalidateQueries({ queryKey: keys.jobs });
  };
  const retry = useMutation({ mutationFn: () => api.retryJob(id), onSuccess: onDone });
  // A workflow run under way ticks each second: its countdown and its growing waterfall bars.
  const workflowLive = !!q.data && isWorkflow(q.data) && !isTerminal(q.data.status);
  const now = useNow(1000, workflowLive);
  const [sending, setSending] = useState(false);
  const cancel = useMutation({ mutationFn: () => api.cancelJob(id), onSuccess: onDone });

  if (!Number.isInteger(id) || id <= 0) return <EmptyState title={`"${jobId}" is not a job id`} />;

  const back = (
    <Link to="/jobs" className="inline-flex items-center gap-1 text-xs text-muted-foreground hover:text-foreground">
      <ArrowLeftIcon className="size-3.5" /> Jobs
    </Link>
  );
  if (q.isPending)
    return (
      <div className="flex flex-col gap-4">
        {back}
        <Skeleton className="h-10 w-64" />
        <Skeleton className="h-32" />
        <Skeleton className="h-64" />
      </div>
    );
  if (q.isError)
    return (
      <div className="flex flex-col gap-4">
        {back}
        <ErrorState error={q.error} title={`Job #${id} could not be loaded`} onRetry={() => q.refetch()} />
      </div>
    );

  const job = q.data;
  const actionError = retry.error ?? cancel.error;
  const workflow = isWorkflow(job);
  return (
    <div className="flex flex-col gap-6">
      <div>
        {back}
        <div className="mt-2 flex flex-wrap items-center justify-between gap-3">
          <div className="flex items-center gap-3">
            <h1 className="font-mono text-xl font-semibold tracking-tight">Job #{job.job_id}</h1>
            <span data-testid="job-status">
              <StatusBadge status={job.status} className="text-sm" />
            </span>
            {!isTerminal(job.status) && (
              <span className="text-xs text-muted-foreground">updating live</span>
            )}
          </div>
          <div className="flex items-center gap-2">
            {canCancel(job.status) && (
              <Button variant="outline" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
                <BanIcon /> {cancel.isPending ? "Cancelling…" : "Cancel"}
              </Button>
            )}
            {canRetry(job.status) && (
              <Button onClick={() => retry.mutate()} disabled={retry.isPending}>
                <RotateCcwIcon /> {retry.isPending ? "Retrying…" : "Retry"}
              </Button>
            )}
          </div>
        </div>
        {actionError && (
          <p role="alert" className="mt-2 text-sm text-destructive">
            {errorMessage(actionError)}
          </p>
        )}
      </div>

      {job.status === "waiting" && <WaitingCallout job={job} onSend={() => setSending(true)} />}
      {job.status === "sleeping" && <SleepingCallout job={job} now={now} />}

      <JobSummary job={job} />
      {workflow && <SendEventDialog job={job} open={sending} onOpenChange={setSending} />}

      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_320px]">
        <div className="flex min-w-0 flex-col gap-6">
          {job.error && <JobError error={job.error} />}
          {workflow && <StepsCard job={job} now={now} onSend={() => setSending(true)} />}
          <Card>
            <CardContent className="pt-4">
              <Tabs defaultValue={job.status === "succeeded" ? "result" : job.execution_logs?.length ? "logs" : "code"}>
                <TabsList>
                  <TabsTrigger value="result">Result</TabsTrigger>
                  <TabsTrigger value="logs">
                    Logs
                    {!!job.execution_logs?.length && (
                      <span className="rounded bg-muted px-1 text-[10px] tabular-nums">{job.execution_logs.length}</span>
                    )}
                  </TabsTrigger>
                  <TabsTrigger value="code">Code</TabsTrigger>
                  <TabsTrigger value="payload">Payload</TabsTrigger>
                </TabsList>
                <TabsContent value="result">
                  {job.status === "succeeded" || job.result != null ? (
                    <JsonBlock value={job.result} label="Result" testid="result-json" />
                  ) : (
                    <EmptyState
                      className="py-6"
                      title={isTerminal(job.status) ? "No result" : "No result yet"}
                    >
                      {isTerminal(job.status) ? "The job ended without a result." : "It will show here when the job finishes."}
                    </EmptyState>
                  )}
                </TabsContent>
                <TabsContent value="logs">
                  <JobLogs logs={job.execution_logs} truncated={job.logs_truncated} />
                </TabsContent>
                <TabsContent value="code">
                  <CodeEditor value={job.code} readOnly language="javascript" maxHeight="28rem" />
                </TabsContent>
                <TabsContent value="payload">
                  <JsonBlock value={job.payload} label="Payload" testid="payload-json" />
                </TabsContent>
              </Tabs>
            </CardContent>
          </Card>
        </div>
        <div className="flex flex-col gap-6 self-start">
          {workflow && (job.inbox?.length || !isTerminal(job.status)) ? <Inbox events={job.inbox ?? []} /> : null}
          <Chain job={job} />
          <Card>
            <CardHeader>
              <CardTitle>Timeline</CardTitle>
            </CardHeader>
            <CardContent>
              <Timeline events={job.events ?? []} />
            </CardContent>
          </Card>
          {(job.attempt_history?.length ?? 0) > 0 && (
            <Card>
              <CardHeader>
                <CardTitle>Attempts</CardTitle>
              </CardHeader>
              <CardContent>
                <Attempts attempts={job.attempt_history ?? []} />
              </CardContent>
            </Card>
          )}
        </div>
      </div>
    </div>
  );
}
