import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { SearchIcon, XIcon, ZapIcon } from "lucide-react";
import { useMemo } from "react";
import { EmptyState, ErrorState, PageHeader } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { useDebouncedParam } from "@/lib/use-debounced";
import { EventList } from "./components/event-list";
import { PublishDialog } from "./components/publish-dialog";

const route = getRouteApi("/events");
const PAGE = 30;

export function EventsPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const [text, setText] = useDebouncedParam(search.name, (v) => navigate({ search: { name: v }, replace: true }));

  const q = useInfiniteQuery({
    queryKey: keys.publishedList(search.name),
    queryFn: ({ pageParam, signal }) =>
      api.listPublished({ name: search.name, limit: PAGE, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    placeholderData: keepPreviousData,
  });
  const workers = useQuery({
    queryKey: keys.workerList(undefined),
    queryFn: ({ signal }) => api.listWorkers({ limit: 500 }, signal),
  });
  const workerNames = useMemo(
    () => new Map((workers.data?.workers ?? []).map((w) => [w.worker_id, w.name] as const)),
    [workers.data],
  );
  const events = q.data?.pages.flatMap((p) => p.events) ?? [];

  return (
    <>
      <PageHeader
        title="Events"
        description="Published events, newest first, each with the jobs it started in the workers subscribed to it."
        actions={<PublishDialog />}
      />
      <div className="flex flex-wrap items-center gap-2">
        <div className="relative w-full sm:w-72">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
          <Input
            aria-label="Event name"
            placeholder="Exact event name, e.g. order.paid"
            className="pl-8 font-mono text-xs"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </div>
        {search.name && (
          <Button variant="ghost" size="sm" onClick={() => setText("")}>
            <XIcon /> Every event
          </Button>
        )}
      </div>
      <Card className="mt-4 overflow-hidden">
        {q.isPending ? (
          <div className="flex flex-col gap-2 p-4">
            {Array.from({ length: 4 }, (_, i) => (
              <Skeleton key={i} className="h-16" />
            ))}
          </div>
        ) : q.isError ? (
          <ErrorState error={q.error} className="m-4" onRetry={() => q.refetch()} />
        ) : events.length === 0 ? (
          <EmptyState
            className="m-4"
            icon={<ZapIcon className="size-5" />}
            title={search.name ? `No event named "${search.name}"` : "No events published yet"}
          >
            {search.name ? (
              <Link to="/events" className="text-primary hover:underline">
                Show every event
              </Link>
            ) : (
              <>
                Publish one here or with <code className="text-xs">POST /api/events/publish</code>; subscribe a worker
                to its name on the worker's page.
              </>
            )}
          </EmptyState>
        ) : (
          <EventList events={events} workerNames={workerNames} />
        )}
      </Card>
      {q.hasNextPage && (
        <div className="mt-4 flex justify-center">
          <Button variant="outline" onClick={() => q.fetchNextPage()} disabled={q.isFetchingNextPage}>
            {q.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        </div>
      )}
    </>
  );
}
