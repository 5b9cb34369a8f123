import { useQuery } from "@tanstack/react-query";
import { EmptyState, ErrorState, PageHeader } from "@/components/states";
import { Card, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api, keys } from "@/lib/api";
import { formatAge, formatNumber } from "@/lib/format";
import { DeadLetters } from "./components/dead-letters";
import { PeekDialog } from "./components/peek-dialog";

export function QueuesPage() {
  const q = useQuery({ queryKey: keys.queues, queryFn: ({ signal }) => api.queues(signal) });
  return (
    <>
      <PageHeader title="Queues" description="pgmq queues: what is waiting, for how long, and what gave up." />
      <div className="flex flex-col gap-6">
        <Card className="overflow-hidden">
          <CardHeader>
            <CardTitle>Queues</CardTitle>
            <CardDescription>Length counts visible and in-flight messages.</CardDescription>
          </CardHeader>
          {q.isPending ? (
            <div className="flex flex-col gap-2 px-5 pb-5">
              <Skeleton className="h-9" />
              <Skeleton className="h-9" />
            </div>
          ) : q.isError ? (
            <ErrorState error={q.error} className="mx-5 mb-5" onRetry={() => q.refetch()} />
          ) : q.data.queues.length === 0 ? (
            <EmptyState title="No queues yet" className="mx-5 mb-5" />
          ) : (
            <Table data-testid="queues-table">
              <TableHeader>
                <TableRow className="hover:bg-transparent">
                  <TableHead className="pl-5">Queue</TableHead>
                  <TableHead className="text-right">Length</TableHead>
                  <TableHead className="text-right">Oldest</TableHead>
                  <TableHead className="text-right">Newest</TableHead>
                  <TableHead className="text-right">Total ever</TableHead>
                  <TableHead className="pr-5 text-right" />
                </TableRow>
              </TableHeader>
              <TableBody>
                {q.data.queues.map((qu) => (
                  <TableRow key={qu.queue_name}>
                    <TableCell className="pl-5 font-mono text-xs font-medium">{qu.queue_name}</TableCell>
                    <TableCell className="text-right font-semibold tabular-nums">
                      {formatNumber(qu.queue_length)}
                    </TableCell>
                    <TableCell className="text-right text-xs text-muted-foreground">
                      {formatAge(qu.oldest_msg_age_sec)}
                    </TableCell>
                    <TableCell className="text-right text-xs text-muted-foreground">
                      {formatAge(qu.newest_msg_age_sec)}
                    </TableCell>
                    <TableCell className="text-right text-xs tabular-nums text-muted-foreground">
                      {formatNumber(qu.total_messages)}
                    </TableCell>
                    <TableCell className="pr-5 text-right">
                      <PeekDialog queue={qu.queue_name} disabled={qu.queue_length === 0} />
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
        <DeadLetters />
      </div>
    </>
  );
}
