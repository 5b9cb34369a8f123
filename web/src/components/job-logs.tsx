import { formatClock } from "@/lib/format";
import type { LogLine } from "@/lib/types";
import { cn } from "@/lib/utils";

const LEVEL: Record<string, string> = {
  error: "text-red-600 dark:text-red-400",
  warn: "text-amber-600 dark:text-amber-400",
  info: "text-sky-600 dark:text-sky-400",
  debug: "text-muted-foreground",
  log: "text-muted-foreground",
};

export function JobLogs({
  logs,
  truncated,
  testid = "job-logs",
}: {
  logs: LogLine[] | null | undefined;
  truncated?: boolean;
  testid?: string;
}) {
  if (!logs?.length) return (
      <p className="rounded-lg border border-dashed px-3 py-3 text-center text-xs text-muted-foreground">
        No console output
      </p>
    );
  return (
    <div className="max-h-96 overflow-auto rounded-lg border bg-muted/30 font-mono text-[12.5px]" data-testid={testid}>
      <table className="w-full">
        <tbody>
          {logs.map((l, i) => (
            <tr key={i} className="border-b border-border/50 align-top last:border-0">
              <td className="w-0 py-1 pr-3 pl-3 whitespace-nowrap text-muted-foreground tabular-nums">
                {formatClock(l.at)}
              </td>
              <td className={cn("w-0 py-1 pr-3 font-medium uppercase", LEVEL[l.level] ?? "text-muted-foreground")}>
                {l.level}
              </td>
              <td className="py-1 pr-3 break-all whitespace-pre-wrap">{l.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {truncated && (
        <p className="border-t px-3 py-1.5 text-xs text-muted-foreground">
          Output truncated: only the first lines were kept.
        </p>
      )}
    </div>
  );
}
