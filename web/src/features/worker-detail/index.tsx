import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { ArrowLeftIcon, ListIcon } from "lucide-react";
import { RelativeTime } from "@/components/relative-time";
import { ErrorState } from "@/components/states";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { RunResult } from "@/features/new-worker/components/run-result";
import { api, keys } from "@/lib/api";
import type { WorkerRun } from "@/lib/types";
import { CodePanel } from "./components/code-panel";
import { RecentRuns } from "./components/recent-runs";
import { RunPanel } from "./components/run-panel";
import { Subscriptions } from "./components/subscriptions";
import { WorkerSchedules } from "./components/worker-schedules";

const route = getRouteApi("/workers/$workerId");

export function WorkerDetailPage() {
  const { workerId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.worker(workerId), queryFn: ({ signal }) => api.getWorker(workerId, signal) });
  const run = useMutation({
    mutationFn: (body: WorkerRun) => api.runWorker(workerId, body, 30),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.worker(workerId) });
      void qc.invalidateQueries({ queryKey: keys.jobs });
    },
  });

  const back = (
    <Link to="/workers" className="inline-flex items-center gap-1 text-xs text-muted-foreground hover:text-foreground">
      <ArrowLeftIcon className="size-3.5" /> Workers
    </Link>
  );
  if (q.isPending)
    return (
      <div className="flex flex-col gap-4">
        {back}
        <Skeleton className="h-10 w-64" />
        <Skeleton className="h-72" />
      </div>
    );
  if (q.isError)
    return (
      <div className="flex flex-col gap-4">
        {back}
        <h1 className="text-xl font-semibold tracking-tight">Worker</h1>
        <ErrorState error={q.error} title={`Worker ${workerId} could not be loaded`} onRetry={() => q.refetch()} />
      </div>
    );

  const w = q.data;
  const version = search.version ?? w.version;
  return (
    <div className="flex flex-col gap-6">
      <div>
        {back}
        <div className="mt-2 flex flex-wrap items-end justify-between gap-3">
          <div className="min-w-0">
            <div className="flex items-center gap-3">
              <h1 className="truncate text-xl font-semibold tracking-tight">{w.name}</h1>
              <Badge variant="secondary" className="font-mono" data-testid="current-version">
                v{w.version}
              </Badge>
            </div>
            <p className="mt-1 text-sm text-muted-foreground">
              <span className="font-mono text-xs">{w.worker_id}</span>
              {w.cache_id && (
                <>
                  {" "}
                  · cache <span className="font-mono text-xs">{w.cache_id}</span>
                </>
              )}{" "}
              · saved <RelativeTime value={w.created_at} />, changed <RelativeTime value={w.updated_at} />
            </p>
          </div>
          <Button asChild variant="outline">
            <Link to="/jobs" search={{ worker_id: w.worker_id }}>
              <ListIcon /> All runs
            </Link>
          </Button>
        </div>
      </div>

      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_360px]">
        <CodePanel
          worker={w}
          version={version}
          onVersion={(v) => void navigate({ search: { version: v }, replace: true })}
        />
        <div className="flex flex-col gap-6">
          <RunPanel version={w.version} run={run} />
          <Subscriptions workerId={w.worker_id} subscriptions={w.subscriptions ?? []} />
        </div>
      </div>

      {!run.isIdle && (
        <div className="-mt-6">
          <RunResult mutation={run} title={`Run of ${w.name}`} />
        </div>
      )}

      <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_360px]">
        <RecentRuns workerId={w.worker_id} jobs={w.recent_jobs ?? []} />
        <WorkerSchedules workerId={w.worker_id} schedules={w.schedules ?? []} />
      </div>
    </div>
  );
}
