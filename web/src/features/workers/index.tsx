import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { CodeXmlIcon, PlusIcon, SearchIcon } from "lucide-react";
import { EmptyState, ErrorState, PageHeader } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { useDebouncedParam } from "@/lib/use-debounced";
import { WorkersTable } from "./components/workers-table";

const route = getRouteApi("/workers/");

export function WorkersPage() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const [text, setText] = useDebouncedParam(search.q, (v) => navigate({ search: { q: v }, replace: true }));

  const q = useQuery({
    queryKey: keys.workerList(search.q),
    queryFn: ({ signal }) => api.listWorkers({ q: search.q, limit: 200 }, signal),
    placeholderData: keepPreviousData,
  });
  const workers = q.data?.workers ?? [];

  return (
    <>
      <PageHeader
        title="Workers"
        description="Saved code under a name: every save is a new version, every run remembers which one it used."
        actions={
          <Button asChild>
            <Link to="/workers/new">
              <PlusIcon /> New worker
            </Link>
          </Button>
        }
      />
      <div className="relative w-full sm:w-72">
        <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
        <Input
          aria-label="Search workers"
          placeholder="Search by name…"
          className="pl-8"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
      </div>
      <Card className="mt-4 overflow-hidden">
        {q.isPending ? (
          <div className="flex flex-col gap-2 p-4">
            {Array.from({ length: 4 }, (_, i) => (
              <Skeleton key={i} className="h-9" />
            ))}
          </div>
        ) : q.isError ? (
          <ErrorState error={q.error} className="m-4" onRetry={() => q.refetch()} />
        ) : workers.length === 0 ? (
          search.q ? (
            <EmptyState className="m-4" title={`No worker's name contains "${search.q}"`}>
              <Link to="/workers" className="text-primary hover:underline">
                Show every worker
              </Link>
            </EmptyState>
          ) : (
            <EmptyState className="m-4" title="No saved workers yet" icon={<CodeXmlIcon className="size-5" />}>
              Write code in the editor and press Save: it becomes version 1 of a worker you can run, schedule and
              subscribe to events.{" "}
              <Link to="/workers/new" className="text-primary hover:underline">
                Open the editor
              </Link>
            </EmptyState>
          )
        ) : (
          <WorkersTable workers={workers} />
        )}
      </Card>
    </>
  );
}
