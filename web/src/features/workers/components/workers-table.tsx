import { Link } from "@tanstack/react-router";
import { RelativeTime } from "@/components/relative-time";
import { Badge } from "@/components/ui/badge";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatFailureRate, shortHash } from "@/lib/format";
import type { WorkerSummary } from "@/lib/types";
import { cn } from "@/lib/utils";

/** Red from a quarter failing, amber below, plain when nothing failed. */
function rateTone(rate: number | null): string {
  if (rate == null || rate === 0) return "text-muted-foreground";
  return rate >= 0.25 ? "text-red-600 dark:text-red-400" : "text-amber-600 dark:text-amber-400";
}

export function WorkersTable({ workers }: { workers: WorkerSummary[] }) {
  return (
    <Table data-testid="workers-table">
      <TableHeader>
        <TableRow className="hover:bg-transparent">
          <TableHead className="pl-5">Name</TableHead>
          <TableHead>Version</TableHead>
          <TableHead>Worker id</TableHead>
          <TableHead>Last run</TableHead>
          <TableHead>Failures (recent runs)</TableHead>
          <TableHead className="pr-5 text-right">Changed</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {workers.map((w) => (
          <TableRow key={w.worker_id} data-worker-id={w.worker_id}>
            <TableCell className="pl-5">
              <Link
                to="/workers/$workerId"
                params={{ workerId: w.worker_id }}
                search={{}}
                className="font-medium text-primary hover:underline"
              >
                {w.name}
              </Link>
            </TableCell>
            <TableCell>
              <Badge variant="secondary" className="font-mono" title={`code ${shortHash(w.code_hash, 12)}`}>
                v{w.version}
              </Badge>
            </TableCell>
            <TableCell className="max-w-56 truncate font-mono text-xs text-muted-foreground">{w.worker_id}</TableCell>
            <TableCell className="text-xs text-muted-foreground">
              {w.last_run_at ? <RelativeTime value={w.last_run_at} /> : "never"}
            </TableCell>
            <TableCell className={cn("text-xs tabular-nums", rateTone(w.failure_rate))} data-testid="failure-rate">
              {formatFailureRate(w.failure_rate, w.recent_failed, w.recent_finished)}
            </TableCell>
            <TableCell className="pr-5 text-right text-xs text-muted-foreground">
              <RelativeTime value={w.updated_at} />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
