import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { SearchIcon, XIcon } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { api, keys } from "@/lib/api";
import { shortHash } from "@/lib/format";
import { statusStyle } from "@/lib/status";
import { JOB_STATUSES, type JobStatus } from "@/lib/types";
import { useDebouncedParam } from "@/lib/use-debounced";
import { cn } from "@/lib/utils";

const route = getRouteApi("/jobs/");

export function JobFiltersBar() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const [q, setQ] = useDebouncedParam(search.q, (v) =>
    navigate({ search: (s) => ({ ...s, q: v }), replace: true }),
  );
  const [cache, setCache] = useDebouncedParam(search.cache_id, (v) =>
    navigate({ search: (s) => ({ ...s, cache_id: v }), replace: true }),
  );
  const any = !!(
    search.status ||
    search.q ||
    search.cache_id ||
    search.worker_id ||
    search.trace_id ||
    search.schedule_id ||
    search.event_id ||
    search.parent_job_id
  );

  return (
    <div className="flex flex-wrap items-center gap-2">
      <div className="relative w-full sm:w-72">
        <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
        <Input
          aria-label="Search errors"
          placeholder="Search in errors…"
          className="pl-8"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </div>
      <Select
        value={search.status ?? "all"}
        onValueChange={(v) =>
          navigate({ search: (s) => ({ ...s, status: v === "all" ? undefined : (v as JobStatus) }) })
        }
      >
        <SelectTrigger className="w-40" aria-label="Status">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          <SelectItem value="all">All statuses</SelectItem>
          {JOB_STATUSES.map((s) => (
            <SelectItem key={s} value={s}>
              <span className={cn("inline-block size-2 rounded-full", statusStyle(s).dot)} />
              {statusStyle(s).label}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
      <Input
        aria-label="Cache id"
        placeholder="Cache id"
        className="w-full font-mono text-xs sm:w-48"
        value={cache}
        onChange={(e) => setCache(e.target.value)}
      />
      <FilterChips />
      {any && (
        <Button variant="ghost" size="sm" onClick={() => navigate({ search: {} })}>
          <XIcon /> Reset
        </Button>
      )}
    </div>
  );
}

type ChipKey = "worker_id" | "trace_id" | "schedule_id" | "event_id" | "parent_job_id";

/** The filters links set (a worker's runs, a chain, a schedule's or an event's jobs), each removable. */
function FilterChips() {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const workers = useQuery({
    queryKey: keys.workerList(undefined),
    queryFn: ({ signal }) => api.listWorkers({ limit: 500 }, signal),
    enabled: !!search.worker_id,
  });
  const schedules = useQuery({
    queryKey: keys.scheduleList(undefined),
    queryFn: ({ signal }) => api.listSchedules({}, signal),
    enabled: !!search.schedule_id,
  });
  const workerName = workers.data?.workers.find((w) => w.worker_id === search.worker_id)?.name;
  const scheduleName = schedules.data?.schedules.find((s) => s.schedule_id === search.schedule_id)?.name;
  const chips: { key: ChipKey; label: string; value: string; title: string }[] = [];
  if (search.worker_id)
    chips.push({ key: "worker_id", label: "worker", value: workerName ?? search.worker_id, title: search.worker_id });
  if (search.trace_id)
    chips.push({ key: "trace_id", label: "chain", value: shortHash(search.trace_id, 16), title: search.trace_id });
  if (search.schedule_id)
    chips.push({
      key: "schedule_id",
      label: "schedule",
      value: scheduleName ?? shortHash(search.schedule_id, 12),
      title: search.schedule_id,
    });
  if (search.event_id)
    chips.push({ key: "event_id", label: "event", value: `#${search.event_id}`, title: String(search.event_id) });
  if (search.parent_job_id)
    chips.push({
      key: "parent_job_id",
      label: "started by",
      value: `#${search.parent_job_id}`,
      title: `Jobs started by job ${search.parent_job_id}`,
    });
  if (chips.length === 0) return null;
  return (
    <ul className="flex flex-wrap items-center gap-1.5" aria-label="Filters" data-testid="filter-chips">
      {chips.map((c) => (
        <li
          key={c.key}
          data-filter={c.key}
          title={c.title}
          className="inline-flex items-center gap-1 rounded-full border bg-card py-0.5 pr-1 pl-2.5 text-xs"
        >
          <span className="text-muted-foreground">{c.label}</span>
          <span className="max-w-48 truncate font-mono font-medium">{c.value}</span>
          <button
            type="button"
            aria-label={`Remove the ${c.label} filter`}
            onClick={() => navigate({ search: (s) => ({ ...s, [c.key]: undefined }) })}
            className="cursor-pointer rounded-full p-0.5 text-muted-foreground hover:bg-accent hover:text-foreground"
          >
            <XIcon className="size-3" />
          </button>
        </li>
      ))}
    </ul>
  );
}
