import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { ArrowRightIcon, CodeXmlIcon } from "lucide-react";
import { PageHeader } from "@/components/states";
import { Button } from "@/components/ui/button";
import { api, keys } from "@/lib/api";
import { ExecutorHealth } from "./components/executor-health";
import { KpiCards } from "./components/kpi-cards";
import { QueueDepth } from "./components/queue-depth";
import { RecentJobs } from "./components/recent-jobs";
import { UpcomingRuns } from "./components/upcoming-runs";

export function Dashboard() {
  const metrics = useQuery({ queryKey: keys.metrics(60), queryFn: ({ signal }) => api.metrics(60, signal) });
  return (
    <>
      <PageHeader
        title="Dashboard"
        description="What ran in the last hour, what is waiting, and whether the executor is healthy."
        actions={
          <Button asChild>
            <Link to="/workers/new">
              <CodeXmlIcon /> New worker
            </Link>
          </Button>
        }
      />
      <KpiCards metrics={metrics} />
      <div className="mt-6 grid gap-6 lg:grid-cols-3">
        <div className="flex flex-col gap-6 lg:col-span-2">
          <RecentJobs
            title="Recent jobs"
            queryKey={["dashboard", "recent"]}
            empty="No jobs yet — run one from New worker"
            before={<UpcomingRuns />}
            action={
              <Link to="/jobs" className="inline-flex items-center gap-1 text-xs text-primary hover:underline">
                All jobs <ArrowRightIcon className="size-3" />
              </Link>
            }
          />
          <RecentJobs
            title="Recent failures"
            status="failed"
            queryKey={["dashboard", "failures"]}
            empty="No failures. Nice."
            limit={5}
            action={
              <Link
                to="/jobs"
                search={{ status: "failed" }}
                className="inline-flex items-center gap-1 text-xs text-primary hover:underline"
              >
                All failures <ArrowRightIcon className="size-3" />
              </Link>
            }
          />
        </div>
        <div className="flex flex-col gap-6">
          <QueueDepth />
          <ExecutorHealth />
        </div>
      </div>
    </>
  );
}
