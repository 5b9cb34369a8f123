import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ErrorState } from "@/components/states";
import { Card, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { formatAge, formatNumber } from "@/lib/format";

export function QueueDepth() {
  const q = useQuery({ queryKey: keys.queues, queryFn: ({ signal }) => api.queues(signal) });
  return (
    <Card>
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle>Queue depth</CardTitle>
        <Link to="/queues" className="text-xs text-primary hover:underline">
          Queues
        </Link>
      </CardHeader>
      <div className="px-5 pb-5">
        {q.isPending ? (
          <Skeleton className="h-16" />
        ) : q.isError ? (
          <ErrorState error={q.error} />
        ) : q.data.queues.length === 0 ? (
          <p className="text-sm text-muted-foreground">No queues yet.</p>
        ) : (
          <ul className="flex flex-col gap-3">
            {q.data.queues.map((qu) => (
              <li key={qu.queue_name} className="flex items-baseline justify-between gap-3">
                <span className="truncate font-mono text-xs">{qu.queue_name}</span>
                <span className="text-right">
                  <span className="text-lg font-semibold tabular-nums">{formatNumber(qu.queue_length)}</span>
                  <span className="ml-2 text-xs text-muted-foreground">
                    oldest {formatAge(qu.oldest_msg_age_sec)}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </Card>
  );
}
