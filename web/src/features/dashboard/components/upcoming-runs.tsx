import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { CalendarClockIcon } from "lucide-react";
import { RelativeTime } from "@/components/relative-time";
import { api } from "@/lib/api";
import { formatDateTime } from "@/lib/format";
import { upcomingRuns } from "@/lib/schedules";
import { useNow } from "@/lib/use-now";

/** The next run of each schedule (the soonest few), greyed above the jobs that already ran: what the clock will start next. */
export function UpcomingRuns({ limit = 4 }: { limit?: number }) {
  const q = useQuery({
    queryKey: ["dashboard", "upcoming"],
    queryFn: ({ signal }) => api.listSchedules({}, signal),
  });
  // Times pass while the list waits for its next refresh: drop them as they do.
  const now = useNow(5000);
  const runs = upcomingRuns(q.data?.schedules ?? [], now, limit, 1);
  if (runs.length === 0) return null;
  return (
    <ul className="divide-y border-b border-dashed" aria-label="Upcoming scheduled runs" data-testid="upcoming-runs">
      {runs.map((r) => (
        <li key={`${r.schedule.schedule_id}-${r.at}`} data-testid="upcoming-run">
          <Link
            to="/schedules"
            className="flex items-center gap-3 rounded-md px-3 py-2 text-sm text-muted-foreground opacity-70 hover:bg-muted/50 hover:opacity-100"
            title={`Scheduled for ${formatDateTime(r.at)} (${r.schedule.cron}, ${r.schedule.timezone})`}
          >
            <span className="flex w-16 shrink-0 items-center gap-1 text-xs">
              <CalendarClockIcon className="size-3.5" />
            </span>
            <span className="inline-flex items-center rounded-full border border-dashed px-2 py-0.5 text-xs whitespace-nowrap">
              Upcoming
            </span>
            <span className="min-w-0 flex-1 truncate text-xs">
              <span className="font-medium">{r.schedule.name}</span>
              <span className="ml-2 font-mono">{r.schedule.cron}</span>
            </span>
            <span className="hidden w-16 sm:block" />
            <RelativeTime value={r.at} className="w-16 text-right text-xs" />
          </Link>
        </li>
      ))}
    </ul>
  );
}
