import type { UseQueryResult } from "@tanstack/react-query";
import { Area, AreaChart, ResponsiveContainer } from "recharts";
import { ErrorState } from "@/components/states";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { formatDuration, formatNumber, formatPercent } from "@/lib/format";
import { bucketThroughput } from "@/lib/series";
import { statusStyle } from "@/lib/status";
import { JOB_STATUSES, type Metrics } from "@/lib/types";
import { cn } from "@/lib/utils";

function Kpi({
  label,
  value,
  hint,
  children,
  testid,
}: {
  label: string;
  value: string;
  hint?: string;
  children?: React.ReactNode;
  testid?: string;
}) {
  return (
    <Card className="relative overflow-hidden p-5" data-testid={testid}>
      <p className="text-xs font-medium text-muted-foreground">{label}</p>
      <p className="mt-2 text-2xl font-semibold tracking-tight tabular-nums">{value}</p>
      {hint && <p className="mt-1 text-xs text-muted-foreground">{hint}</p>}
      {children}
    </Card>
  );
}

export function KpiCards({ metrics }: { metrics: UseQueryResult<Metrics> }) {
  if (metrics.isPending)
    return (
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {[0, 1, 2, 3].map((i) => (
          <Skeleton key={i} className="h-28 rounded-xl" />
        ))}
      </div>
    );
  if (metrics.isError)
    return <ErrorState title="Metrics are unavailable" error={metrics.error} onRetry={() => metrics.refetch()} />;
  const m = metrics.data;
  const c = m.counts ?? {};
  const inFlight = (c.queued ?? 0) + (c.running ?? 0) + (c.retrying ?? 0);
  const spark = bucketThroughput(m.throughput ?? [], 60).map((p) => ({ v: p.succeeded + p.failed }));
  return (
    <>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Kpi label="Jobs · last hour" value={formatNumber(m.total)} testid="kpi-total">
          <div className="absolute inset-x-0 bottom-0 h-12 opacity-80">
            <ResponsiveContainer width="100%" height="100%">
              <AreaChart data={spark} margin={{ top: 0, right: 0, bottom: 0, left: 0 }}>
                <defs>
                  <linearGradient id="spark" x1="0" y1="0" x2="0" y2="1">
                    <stop offset="0%" stopColor="var(--color-chart-3)" stopOpacity={0.35} />
                    <stop offset="100%" stopColor="var(--color-chart-3)" stopOpacity={0} />
                  </linearGradient>
                </defs>
                <Area
                  type="monotone"
                  dataKey="v"
                  stroke="var(--color-chart-3)"
                  strokeWidth={1.5}
                  fill="url(#spark)"
                  isAnimationActive={false}
                />
              </AreaChart>
            </ResponsiveContainer>
          </div>
        </Kpi>
        <Kpi
          label="Success rate"
          value={formatPercent(m.success_rate)}
          hint={`${formatNumber(c.succeeded ?? 0)} succeeded · ${formatNumber((c.failed ?? 0) + (c.dead ?? 0))} failed or dead`}
          testid="kpi-success"
        />
        <Kpi
          label="In flight"
          value={formatNumber(inFlight)}
          hint={`${c.running ?? 0} running · ${c.queued ?? 0} queued · ${c.retrying ?? 0} retrying${
            c.sleeping || c.waiting ? ` · ${(c.sleeping ?? 0) + (c.waiting ?? 0)} asleep or waiting` : ""
          }`}
        />
        <Kpi
          label="Execution p50 / p95"
          value={formatDuration(m.exec_ms?.p50)}
          hint={`p95 ${formatDuration(m.exec_ms?.p95)} · queue wait p50 ${formatDuration(m.queue_wait_ms?.p50)}`}
        />
      </div>
      <div className="mt-4 flex flex-wrap gap-2" data-testid="status-counts">
        {JOB_STATUSES.map((s) => {
          const st = statusStyle(s);
          return (
            <div
              key={s}
              className="flex items-center gap-2 rounded-lg border bg-card px-3 py-1.5 text-xs"
              data-status={s}
            >
              <span className={cn("size-2 rounded-full", st.dot)} />
              <span className="text-muted-foreground">{st.label}</span>
              <span className="font-semibold tabular-nums">{formatNumber(c[s] ?? 0)}</span>
            </div>
          );
        })}
      </div>
    </>
  );
}
