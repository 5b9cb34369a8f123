import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { EmptyState } from "@/components/states";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatDuration, formatNumber } from "@/lib/format";
import { bucketThroughput } from "@/lib/series";
import { statusStyle } from "@/lib/status";
import { JOB_STATUSES, type Metrics, type Percentiles } from "@/lib/types";

const axis = { stroke: "var(--color-muted-foreground)", fontSize: 11, tickLine: false, axisLine: false } as const;
const grid = <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" vertical={false} />;
const tooltipStyle = {
  contentStyle: {
    background: "var(--color-popover)",
    border: "1px solid var(--color-border)",
    borderRadius: 8,
    fontSize: 12,
    color: "var(--color-popover-foreground)",
  },
  cursor: { fill: "var(--color-muted)", opacity: 0.5 },
} as const;

const STATUS_COLOR: Record<string, string> = {
  queued: "#94a3b8",
  running: "#0ea5e9",
  sleeping: "#818cf8",
  waiting: "#8b5cf6",
  succeeded: "#10b981",
  failed: "#ef4444",
  retrying: "#f59e0b",
  dead: "#d946ef",
  cancelled: "#a1a1aa",
};

function ChartCard({
  title,
  description,
  children,
  testid,
}: {
  title: string;
  description?: string;
  children: React.ReactNode;
  testid?: string;
}) {
  return (
    <Card data-testid={testid}>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        {description && <CardDescription>{description}</CardDescription>}
      </CardHeader>
      <CardContent className="h-64">{children}</CardContent>
    </Card>
  );
}

function minuteLabel(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export function ThroughputChart({ data, rangeMinutes }: { data: Metrics["throughput"]; rangeMinutes: number }) {
  const buckets = bucketThroughput(data, rangeMinutes);
  const width = Math.max(1, Math.ceil(rangeMinutes / 60));
  return (
    <ChartCard
      title="Throughput"
      description={`Finished jobs per ${width === 1 ? "minute" : `${width} minutes`}`}
      testid="chart-throughput"
    >
      {data.length === 0 ? (
        <EmptyState title="No finished jobs in this range" className="h-full" />
      ) : (
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={buckets.map((d) => ({ ...d, label: minuteLabel(d.start) }))} margin={{ left: -16, right: 4 }}>
            {grid}
            <XAxis dataKey="label" {...axis} minTickGap={24} />
            <YAxis {...axis} allowDecimals={false} />
            <Tooltip {...tooltipStyle} />
            <Legend iconType="circle" iconSize={8} wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="succeeded" stackId="a" fill={STATUS_COLOR.succeeded} isAnimationActive={false} />
            <Bar dataKey="failed" stackId="a" fill={STATUS_COLOR.failed} radius={[3, 3, 0, 0]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartCard>
  );
}

export function LatencyChart({ queueWait, exec }: { queueWait?: Percentiles; exec?: Percentiles }) {
  const rows = (["p50", "p95", "p99"] as const).map((p) => ({
    p,
    "queue wait": queueWait?.[p] ?? 0,
    execution: exec?.[p] ?? 0,
  }));
  const empty = rows.every((r) => !r["queue wait"] && !r.execution);
  return (
    <ChartCard title="Latency percentiles" description="Queue wait and execution time" testid="chart-latency">
      {empty ? (
        <EmptyState title="No timings yet" className="h-full" />
      ) : (
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ left: -8, right: 4 }}>
            {grid}
            <XAxis dataKey="p" {...axis} />
            <YAxis {...axis} tickFormatter={(v: number) => formatDuration(v)} width={64} />
            <Tooltip {...tooltipStyle} formatter={(v) => formatDuration(Number(v))} />
            <Legend iconType="circle" iconSize={8} wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="queue wait" fill="var(--color-chart-4)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
            <Bar dataKey="execution" fill="var(--color-chart-3)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartCard>
  );
}

export function ColdWarmChart({ cold }: { cold?: Metrics["cold"] }) {
  const rows = [
    { kind: "cold", runs: cold?.cold ?? 0, p50: cold?.cold_p50_ms ?? null, fill: "var(--color-chart-5)" },
    { kind: "warm", runs: cold?.warm ?? 0, p50: cold?.warm_p50_ms ?? null, fill: "var(--color-chart-1)" },
  ];
  const total = rows[0].runs + rows[1].runs;
  return (
    <ChartCard title="Cold vs warm" description="Runs by isolate start, with median execution" testid="chart-cold">
      {total === 0 ? (
        <EmptyState title="No runs in this range" className="h-full" />
      ) : (
        <div className="flex h-full flex-col">
          <div className="grid grid-cols-2 gap-4 pb-2">
            {rows.map((r) => (
              <div key={r.kind}>
                <p className="text-xs text-muted-foreground capitalize">{r.kind}</p>
                <p className="text-lg font-semibold tabular-nums">
                  {formatNumber(r.runs)}
                  <span className="ml-2 text-xs font-normal text-muted-foreground">p50 {formatDuration(r.p50)}</span>
                </p>
              </div>
            ))}
          </div>
          <div className="min-h-0 flex-1">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={rows} layout="vertical" margin={{ left: -8, right: 12 }}>
                <CartesianGrid strokeDasharray="3 3" stroke="var(--color-border)" horizontal={false} />
                <XAxis type="number" {...axis} allowDecimals={false} />
                <YAxis type="category" dataKey="kind" {...axis} width={48} />
                <Tooltip {...tooltipStyle} />
                <Bar dataKey="runs" radius={[0, 3, 3, 0]} isAnimationActive={false}>
                  {rows.map((r) => (
                    <Cell key={r.kind} fill={r.fill} />
                  ))}
                </Bar>
              </BarChart>
            </ResponsiveContainer>
          </div>
        </div>
      )}
    </ChartCard>
  );
}

export function OutcomesChart({ counts }: { counts: Metrics["counts"] }) {
  const rows = JOB_STATUSES.map((s) => ({ status: statusStyle(s).label, key: s, n: counts[s] ?? 0 }));
  const total = rows.reduce((a, r) => a + r.n, 0);
  return (
    <ChartCard title="Outcomes" description="Jobs by current status" testid="chart-outcomes">
      {total === 0 ? (
        <EmptyState title="No jobs in this range" className="h-full" />
      ) : (
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ left: -16, right: 4 }}>
            {grid}
            <XAxis dataKey="status" {...axis} interval={0} fontSize={10} />
            <YAxis {...axis} allowDecimals={false} />
            <Tooltip {...tooltipStyle} />
            <Bar dataKey="n" name="jobs" radius={[3, 3, 0, 0]} isAnimationActive={false}>
              {rows.map((r) => (
                <Cell key={r.key} fill={STATUS_COLOR[r.key]} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartCard>
  );
}

export function TopFailing({ rows }: { rows: Metrics["top_failing"] }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>Top failing</CardTitle>
        <CardDescription>Cache ids with the most failures in this range</CardDescription>
      </CardHeader>
      <CardContent>
        {rows.length === 0 ? (
          <EmptyState title="No failures in this range" className="py-6" />
        ) : (
          <Table>
            <TableHeader>
              <TableRow className="hover:bg-transparent">
                <TableHead>Cache id</TableHead>
                <TableHead className="text-right">Failures</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {rows.map((r) => (
                <TableRow key={r.cache_id ?? "(none)"}>
                  <TableCell className="font-mono text-xs">{r.cache_id ?? "(no cache id)"}</TableCell>
                  <TableCell className="text-right tabular-nums">{formatNumber(r.failures)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}
