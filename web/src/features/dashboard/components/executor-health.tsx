import { useQuery } from "@tanstack/react-query";
import { Badge } from "@/components/ui/badge";
import { ErrorState } from "@/components/states";
import { Card, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { healthRows } from "@/lib/health";
import { cn } from "@/lib/utils";

export function ExecutorHealth() {
  // GET /api/health: the token-protected report with every check's detail (the open /health has none).
  const q = useQuery({ queryKey: keys.health, queryFn: ({ signal }) => api.health(signal), refetchInterval: 10_000 });
  const ex = q.data?.checks.executor;
  return (
    <Card data-testid="executor-health">
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle>Health</CardTitle>
        {q.data && (
          <Badge variant={q.data.ok ? "success" : "destructive"}>{q.data.ok ? "All good" : "Degraded"}</Badge>
        )}
      </CardHeader>
      <div className="px-5 pb-5">
        {q.isPending ? (
          <Skeleton className="h-24" />
        ) : q.isError ? (
          <ErrorState error={q.error} />
        ) : (
          <div className="flex flex-col gap-3 text-sm">
            {q.data &&
              healthRows(q.data).map((row) => (
                <Row key={row.name} label={row.label} ok={row.ok} detail={row.detail} />
              ))}
            {!!ex?.processes?.length && (
              <div className="mt-1 overflow-hidden rounded-lg border">
                <table className="w-full text-xs">
                  <thead className="bg-muted/40 text-muted-foreground">
                    <tr>
                      <th className="px-2 py-1.5 text-left font-medium">#</th>
                      <th className="px-2 py-1.5 text-left font-medium">pid</th>
                      <th className="px-2 py-1.5 text-right font-medium">in flight</th>
                      <th className="px-2 py-1.5 text-right font-medium">restarts</th>
                      <th className="px-2 py-1.5 text-right font-medium">RSS</th>
                    </tr>
                  </thead>
                  <tbody className="font-mono">
                    {ex.processes.map((p) => (
                      <tr key={p.index} className="border-t">
                        <td className="px-2 py-1.5">
                          <span
                            className={cn(
                              "mr-1.5 inline-block size-1.5 rounded-full",
                              p.ready ? "bg-emerald-500" : "bg-amber-500",
                            )}
                          />
                          {p.index}
                        </td>
                        <td className="px-2 py-1.5">{p.pid ?? "—"}</td>
                        <td className="px-2 py-1.5 text-right">{p.in_flight}</td>
                        <td className="px-2 py-1.5 text-right">{p.restarts}</td>
                        <td className="px-2 py-1.5 text-right">{p.rss_mb != null ? `${Math.round(p.rss_mb)} MB` : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        )}
      </div>
    </Card>
  );
}

function Row({ label, ok, detail }: { label: string; ok: boolean; detail?: string }) {
  return (
    <div className="flex items-center justify-between gap-3">
      <span className="text-muted-foreground">{label}</span>
      <span className="flex items-center gap-1.5 text-xs" title={detail}>
        <span className={cn("size-2 rounded-full", ok ? "bg-emerald-500" : "bg-red-500")} />
        {ok ? "up" : (detail ?? "down")}
      </span>
    </div>
  );
}
