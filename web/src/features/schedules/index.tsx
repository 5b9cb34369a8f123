import { useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { CalendarClockIcon, CheckIcon, XIcon } from "lucide-react";
import { useMemo, useState } from "react";
import { EmptyState, ErrorState, PageHeader } from "@/components/states";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import type { Schedule } from "@/lib/types";
import { CreateScheduleDialog } from "./components/create-schedule-dialog";
import { SchedulesTable } from "./components/schedules-table";

const route = getRouteApi("/schedules");

export function SchedulesPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const q = useQuery({
    queryKey: keys.scheduleList(search.worker_id),
    queryFn: ({ signal }) => api.listSchedules({ worker_id: search.worker_id }, signal),
  });
  const workers = useQuery({
    queryKey: keys.workerList(undefined),
    queryFn: ({ signal }) => api.listWorkers({ limit: 500 }, signal),
  });
  const workerNames = useMemo(
    () => new Map((workers.data?.workers ?? []).map((w) => [w.worker_id, w.name] as const)),
    [workers.data],
  );
  const [dialog, setDialog] = useState(!!search.new_for);
  const [created, setCreated] = useState<Schedule | null>(null);
  const schedules = q.data?.schedules ?? [];

  const openDialog = (o: boolean) => {
    setDialog(o);
    if (!o && search.new_for) void navigate({ search: (s) => ({ ...s, new_for: undefined }), replace: true });
  };

  return (
    <>
      <PageHeader
        title="Schedules"
        description="Work on a clock: each schedule starts a job whenever its cron expression fires, in its own time zone."
        actions={
          <CreateScheduleDialog
            workers={workers.data?.workers ?? []}
            open={dialog}
            onOpenChange={openDialog}
            initialWorker={search.new_for}
            onCreated={(s) => {
              setCreated(s);
              openDialog(false);
            }}
          />
        }
      />
      {search.worker_id && (
        <div className="mb-4 flex items-center gap-2 text-sm">
          <span className="text-muted-foreground">Showing the schedules of</span>
          <span className="inline-flex items-center gap-1 rounded-full border bg-card py-0.5 pr-1 pl-2.5 text-xs">
            <Link
              to="/workers/$workerId"
              params={{ workerId: search.worker_id }}
              search={{}}
              className="font-medium hover:underline"
            >
              {workerNames.get(search.worker_id) ?? search.worker_id}
            </Link>
            <button
              type="button"
              aria-label="Show every schedule"
              onClick={() => void navigate({ search: (s) => ({ ...s, worker_id: undefined }) })}
              className="cursor-pointer rounded-full p-0.5 text-muted-foreground hover:bg-accent hover:text-foreground"
            >
              <XIcon className="size-3" />
            </button>
          </span>
        </div>
      )}
      {created && (
        <p role="status" className="mb-4 flex items-center gap-2 text-sm text-muted-foreground">
          <CheckIcon className="size-4 text-emerald-500" />
          <span>
            Created <span className="font-medium text-foreground">{created.name}</span>
            {created.paused ? " (paused)." : "."}
          </span>
        </p>
      )}
      <Card className="overflow-hidden">
        {q.isPending ? (
          <div className="flex flex-col gap-2 p-4">
            {Array.from({ length: 3 }, (_, i) => (
              <Skeleton key={i} className="h-10" />
            ))}
          </div>
        ) : q.isError ? (
          <ErrorState error={q.error} className="m-4" onRetry={() => q.refetch()} />
        ) : schedules.length === 0 ? (
          <EmptyState
            className="m-4"
            title={search.worker_id ? "No schedule runs this worker" : "No schedules yet"}
            icon={<CalendarClockIcon className="size-5" />}
          >
            Press New schedule to run a saved worker or a bit of code every few minutes, every night, every Monday…
          </EmptyState>
        ) : (
          <SchedulesTable
            key={created?.schedule_id ?? ""}
            schedules={schedules}
            workerNames={workerNames}
            highlight={created?.schedule_id}
          />
        )}
      </Card>
    </>
  );
}
