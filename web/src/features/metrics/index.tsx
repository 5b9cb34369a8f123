import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { ErrorState, PageHeader } from "@/components/states";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { formatDuration, formatNumber, formatPercent } from "@/lib/format";
import { cn } from "@/lib/utils";
import { ColdWarmChart, LatencyChart, OutcomesChart, ThroughputChart, TopFailing } from "./components/charts";
import { RANGE_LABEL, RANGES } from "./ranges";

const route = getRouteApi("/metrics");

export function MetricsPage() {
  const { range_minutes } = route.useSearch();
  const navigate = route.useNavigate();
  const q = useQuery({
    queryKey: keys.metrics(range_minutes),
    queryFn: ({ signal }) => api.metrics(range_minutes, signal),
    placeholderData: (prev) => prev,
  });

  const picker = (
    <div className="inline-flex rounded-lg border bg-muted p-1" role="radiogroup" aria-label="Time range">
      {RANGES.map((r) => (
        <button
          key={r}
          type="button"
          role="radio"
          aria-checked={range_minutes === r}
          onClick={() => navigate({ search: { range_minutes: r } })}
          className={cn(
            "rounded-md px-3 py-1 text-xs font-medium text-muted-foreground transition-colors hover:text-foreground cursor-pointer",
            range_minutes === r && "bg-background text-foreground shadow-sm",
          )}
        >
          {RANGE_LABEL[r]}
        </button>
      ))}
    </div>
  );

  return (
    <>
      <PageHeader title="Metrics" description="Throughput, latency and outcomes over time." actions={picker} />
      {q.isPending ? (
        <div className="grid gap-6 lg:grid-cols-2">
          {[0, 1, 2, 3].map((i) => (
            <Skeleton key={i} className="h-72 rounded-xl" />
          ))}
        </div>
      ) : q.isError ? (
        <ErrorState title="Metrics are unavailable" error={q.error} onRetry={() => q.refetch()} />
      ) : (
        <div className={cn("flex flex-col gap-6 transition-opacity", q.isPlaceholderData && "opacity-60")}>
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            <Stat label={`Jobs · ${RANGE_LABEL[range_minutes]}`} value={formatNumber(q.data.total)} />
            <Stat label="Success rate" value={formatPercent(q.data.success_rate)} />
            <Stat label="Queue wait p95" value={formatDuration(q.data.queue_wait_ms?.p95)} />
            <Stat label="Execution p95" value={formatDuration(q.data.exec_ms?.p95)} />
          </div>
          <div className="grid gap-6 lg:grid-cols-2">
            <ThroughputChart data={q.data.throughput ?? []} rangeMinutes={range_minutes} />
            <LatencyChart queueWait={q.data.queue_wait_ms} exec={q.data.exec_ms} />
            <ColdWarmChart cold={q.data.cold} />
            <OutcomesChart counts={q.data.counts ?? {}} />
          </div>
          <TopFailing rows={q.data.top_failing ?? []} />
        </div>
      )}
    </>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <Card className="p-5">
      <p className="text-xs font-medium text-muted-foreground">{label}</p>
      <p className="mt-2 text-2xl font-semibold tracking-tight tabular-nums">{value}</p>
    </Card>
  );
}
