import { useInfiniteQuery } from "@tanstack/react-query";
import { getRouteApi, Link } from "@tanstack/react-router";
import { CodeXmlIcon } from "lucide-react";
import { EmptyState, ErrorState, PageHeader } from "@/components/states";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import { api, type JobFilters, keys } from "@/lib/api";
import { JobFiltersBar } from "./components/job-filters";
import { JobsTable } from "./components/jobs-table";

const route = getRouteApi("/jobs/");
const PAGE = 50;

export function JobsPage() {
  const search = route.useSearch();
  const filters: JobFilters = {
    status: search.status,
    cache_id: search.cache_id,
    q: search.q,
    worker_id: search.worker_id,
    trace_id: search.trace_id,
    schedule_id: search.schedule_id,
    event_id: search.event_id,
    parent_job_id: search.parent_job_id,
  };
  const q = useInfiniteQuery({
    queryKey: keys.jobList(filters),
    queryFn: ({ pageParam, signal }) => api.listJobs({ ...filters, limit: PAGE, cursor: pageParam }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const jobs = q.data?.pages.flatMap((p) => p.jobs) ?? [];
  const filtered = Object.values(filters).some((v) => v != null && v !== "");

  return (
    <>
      <PageHeader
        title="Jobs"
        description={
          search.trace_id
            ? "One chain: the jobs sharing a trace id, newest first (a job, the jobs it started, theirs…)."
            : "Every run, newest first. New jobs appear here as they are submitted."
        }
        actions={
          <Button asChild variant="outline">
            <Link to="/workers/new">
              <CodeXmlIcon /> New worker
            </Link>
          </Button>
        }
      />
      <JobFiltersBar />
      <Card className="mt-4 overflow-hidden">
        {q.isPending ? (
          <div className="flex flex-col gap-2 p-4">
            {Array.from({ length: 6 }, (_, i) => (
              <Skeleton key={i} className="h-9" />
            ))}
          </div>
        ) : q.isError ? (
          <ErrorState error={q.error} className="m-4" onRetry={() => q.refetch()} />
        ) : jobs.length === 0 ? (
          <EmptyState
            className="m-4"
            title={filtered ? "No jobs match these filters" : "No jobs yet — run one from New worker"}
          >
            {filtered ? (
              <Link to="/jobs" className="text-primary hover:underline">
                Clear filters
              </Link>
            ) : (
              <Link to="/workers/new" className="text-primary hover:underline">
                Open the editor
              </Link>
            )}
          </EmptyState>
        ) : (
          <JobsTable jobs={jobs} />
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
