import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ArrowRightIcon, Trash2Icon } from "lucide-react";
import { useState } from "react";
import { CodeEditor } from "@/components/code-editor";
import { JsonBlock } from "@/components/json-block";
import { RelativeTime } from "@/components/relative-time";
import { ErrorState, errorMessage } from "@/components/states";
import { StatusBadge } from "@/components/status-badge";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogClose,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
  DialogTrigger,
} from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import type { Schedule } from "@/lib/types";
import { ZonedTime } from "./cron-helper";

function Section({ title, children, action }: { title: string; children: React.ReactNode; action?: React.ReactNode }) {
  return (
    <section className="min-w-0">
      <div className="mb-1.5 flex items-center justify-between gap-2">
        <h3 className="text-xs font-medium text-muted-foreground">{title}</h3>
        {action}
      </div>
      {children}
    </section>
  );
}

/** A schedule opened in its row: the next fire times, the recent fires with their jobs, its settings. */
export function ScheduleDetail({ schedule }: { schedule: Schedule }) {
  const q = useQuery({
    queryKey: keys.schedule(schedule.schedule_id),
    queryFn: ({ signal }) => api.getSchedule(schedule.schedule_id, signal),
  });
  if (q.isPending) return <Skeleton className="h-32" />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => q.refetch()} />;
  const s = q.data;
  const fires = s.recent_fires ?? [];
  return (
    <div className="grid gap-5 lg:grid-cols-3" data-testid="schedule-detail">
      <Section title={s.paused ? "Upcoming (paused: nothing fires)" : "Upcoming"}>
        {s.paused || !s.upcoming?.length ? (
          <p className="text-xs text-muted-foreground">Nothing, while paused. Resume to fire from the next tick.</p>
        ) : (
          <ol className="flex flex-col gap-0.5">
            {s.upcoming.map((t) => (
              <li key={t} className="text-xs">
                <ZonedTime value={t} />
              </li>
            ))}
          </ol>
        )}
      </Section>
      <Section
        title="Recent fires"
        action={
          fires.length > 0 && (
            <Link
              to="/jobs"
              search={{ schedule_id: s.schedule_id }}
              className="inline-flex items-center gap-1 text-xs text-primary hover:underline"
            >
              All runs <ArrowRightIcon className="size-3" />
            </Link>
          )
        }
      >
        {fires.length === 0 ? (
          <p className="text-xs text-muted-foreground">
            Not fired yet{s.last_fire_at ? "" : ": the first run comes at the first upcoming time"}.
          </p>
        ) : (
          <ul className="flex flex-col divide-y rounded-lg border" data-testid="recent-fires">
            {fires.map((f) => (
              <li key={f.fire_time} className="flex items-center gap-2 px-2.5 py-1.5 text-xs">
                <ZonedTime value={f.fire_time} zone={s.timezone} short className="min-w-0 flex-1 truncate" />
                {f.job_id != null ? (
                  <Link
                    to="/jobs/$jobId"
                    params={{ jobId: String(f.job_id) }}
                    className="font-mono text-primary hover:underline"
                  >
                    #{f.job_id}
                  </Link>
                ) : (
                  <span className="text-muted-foreground">no job</span>
                )}
                {f.status && <StatusBadge status={f.status} />}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="Settings" action={<DeleteSchedule schedule={s} />}>
        <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs">
          <dt className="text-muted-foreground">Missed ticks</dt>
          <dd>{s.misfire === "skip" ? "skipped" : `caught up (at most ${s.catch_up_limit})`}</dd>
          <dt className="text-muted-foreground">Attempts</dt>
          <dd>
            {s.max_attempts ?? "default"}
            {s.retry_on_error ? ", retried on a throw" : ""}
          </dd>
          <dt className="text-muted-foreground">Timeout</dt>
          <dd>{s.timeout_ms != null ? formatDuration(s.timeout_ms) : "default"}</dd>
          <dt className="text-muted-foreground">Last fired</dt>
          <dd>{s.last_fire_at ? <RelativeTime value={s.last_fire_at} /> : "never"}</dd>
          <dt className="text-muted-foreground">Payload</dt>
          <dd className="min-w-0">
            <JsonBlock value={s.payload} label="Schedule payload" className="[&_pre]:max-h-32 [&_pre]:p-2" />
          </dd>
        </dl>
      </Section>
      {s.code != null && s.worker_id == null && (
        <div className="lg:col-span-3">
          <Section title="Code">
            <CodeEditor value={s.code} readOnly language="javascript" maxHeight="16rem" minHeight="3rem" />
          </Section>
        </div>
      )}
    </div>
  );
}

function DeleteSchedule({ schedule }: { schedule: Schedule }) {
  const [open, setOpen] = useState(false);
  const qc = useQueryClient();
  const del = useMutation({
    mutationFn: () => api.deleteSchedule(schedule.schedule_id),
    onSuccess: () => {
      setOpen(false);
      qc.removeQueries({ queryKey: keys.schedule(schedule.schedule_id) });
      void qc.invalidateQueries({ queryKey: keys.schedules });
      void qc.invalidateQueries({ queryKey: keys.workers });
      void qc.invalidateQueries({ queryKey: ["dashboard"] });
    },
  });
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (o) del.reset();
      }}
    >
      <DialogTrigger asChild>
        <Button variant="ghost" size="sm" className="h-6 px-2 text-destructive hover:text-destructive">
          <Trash2Icon className="size-3.5" /> Delete
        </Button>
      </DialogTrigger>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Delete {schedule.name}?</DialogTitle>
          <DialogDescription>
            It stops firing for good. The jobs it already started stay in the job list.
          </DialogDescription>
        </DialogHeader>
        {del.isError && <p className="text-sm text-destructive">{errorMessage(del.error)}</p>}
        <DialogFooter>
          <DialogClose asChild>
            <Button variant="outline">Keep it</Button>
          </DialogClose>
          <Button variant="destructive" onClick={() => del.mutate()} disabled={del.isPending}>
            {del.isPending ? "Deleting…" : "Delete schedule"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
