import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ChevronRightIcon, FileCodeIcon, PauseIcon, PlayIcon } from "lucide-react";
import { Fragment, useState } from "react";
import { errorMessage } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api, keys } from "@/lib/api";
import { nextRun } from "@/lib/schedules";
import type { Schedule } from "@/lib/types";
import { cn } from "@/lib/utils";
import { ZonedTime } from "./cron-helper";
import { ScheduleDetail } from "./schedule-detail";

export function SchedulesTable({
  schedules,
  workerNames,
  highlight,
}: {
  schedules: Schedule[];
  workerNames: ReadonlyMap<string, string>;
  /** A schedule just created: opened and marked. */
  highlight?: string | null;
}) {
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set(highlight ? [highlight] : []));
  const toggle = (id: string) =>
    setOpen((o) => {
      const n = new Set(o);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const now = Date.now();
  return (
    <Table data-testid="schedules-table">
      <TableHeader>
        <TableRow className="hover:bg-transparent">
          <TableHead className="w-8 pl-4" />
          <TableHead>Name</TableHead>
          <TableHead>When</TableHead>
          <TableHead>Runs</TableHead>
          <TableHead>Next fire</TableHead>
          <TableHead>State</TableHead>
          <TableHead className="pr-5 text-right" />
        </TableRow>
      </TableHeader>
      <TableBody>
        {schedules.map((s) => {
          const isOpen = open.has(s.schedule_id);
          const next = nextRun(s, now);
          return (
            <Fragment key={s.schedule_id}>
              <TableRow
                data-schedule-id={s.schedule_id}
                data-paused={s.paused}
                className={cn(highlight === s.schedule_id && "bg-primary/5")}
              >
                <TableCell className="pl-4">
                  <button
                    type="button"
                    aria-expanded={isOpen}
                    aria-label={`${isOpen ? "Hide" : "Show"} details of ${s.name}`}
                    onClick={() => toggle(s.schedule_id)}
                    className="cursor-pointer rounded p-0.5 text-muted-foreground hover:bg-accent hover:text-foreground"
                  >
                    <ChevronRightIcon className={cn("size-4 transition-transform", isOpen && "rotate-90")} />
                  </button>
                </TableCell>
                <TableCell className="font-medium">
                  <button
                    type="button"
                    className="cursor-pointer hover:underline"
                    onClick={() => toggle(s.schedule_id)}
                  >
                    {s.name}
                  </button>
                </TableCell>
                <TableCell>
                  <span className="font-mono text-xs">{s.cron}</span>
                  <span className="ml-2 text-xs text-muted-foreground">{s.timezone}</span>
                </TableCell>
                <TableCell className="text-xs">
                  {s.worker_id ? (
                    <Link
                      to="/workers/$workerId"
                      params={{ workerId: s.worker_id }}
                      search={{}}
                      className="text-primary hover:underline"
                    >
                      {workerNames.get(s.worker_id) ?? s.worker_id}
                    </Link>
                  ) : (
                    <span className="inline-flex items-center gap-1 text-muted-foreground">
                      <FileCodeIcon className="size-3.5" /> inline code
                    </span>
                  )}
                </TableCell>
                <TableCell className="text-xs" data-testid="next-fire">
                  {next ? <ZonedTime value={next} /> : <span className="text-muted-foreground">—</span>}
                </TableCell>
                <TableCell>
                  {s.paused ? <Badge variant="warning">Paused</Badge> : <Badge variant="success">Active</Badge>}
                </TableCell>
                <TableCell className="pr-5 text-right">
                  <PauseResume schedule={s} />
                </TableCell>
              </TableRow>
              {isOpen && (
                <TableRow className="bg-muted/20 hover:bg-muted/20">
                  <TableCell colSpan={7} className="px-5 py-4 whitespace-normal">
                    <ScheduleDetail schedule={s} />
                  </TableCell>
                </TableRow>
              )}
            </Fragment>
          );
        })}
      </TableBody>
    </Table>
  );
}

function PauseResume({ schedule }: { schedule: Schedule }) {
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: () => (schedule.paused ? api.resumeSchedule : api.pauseSchedule)(schedule.schedule_id),
    onSuccess: (s) => {
      qc.setQueryData(keys.schedule(s.schedule_id), s);
      // The row flips at once; the refetch below brings the rest.
      qc.setQueriesData<{ schedules: Schedule[] }>({ queryKey: ["schedules", "list"] }, (old) =>
        old ? { schedules: old.schedules.map((x) => (x.schedule_id === s.schedule_id ? { ...x, ...s } : x)) } : old,
      );
      void qc.invalidateQueries({ queryKey: keys.schedules });
      void qc.invalidateQueries({ queryKey: keys.workers });
      void qc.invalidateQueries({ queryKey: ["dashboard"] });
    },
  });
  return (
    <span className="inline-flex items-center gap-2">
      {m.isError && (
        <span role="alert" className="max-w-60 truncate text-xs text-destructive" title={errorMessage(m.error)}>
          {errorMessage(m.error)}
        </span>
      )}
      <Button variant="outline" size="sm" disabled={m.isPending} onClick={() => m.mutate()}>
        {schedule.paused ? (
          <>
            <PlayIcon /> Resume
          </>
        ) : (
          <>
            <PauseIcon /> Pause
          </>
        )}
      </Button>
    </span>
  );
}
