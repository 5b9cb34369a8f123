import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { AlertTriangleIcon } from "lucide-react";
import { RelativeTime } from "@/components/relative-time";
import { errorMessage } from "@/components/states";
import { Skeleton } from "@/components/ui/skeleton";
import { api, keys } from "@/lib/api";
import { formatInZone, formatZoned } from "@/lib/format";
import { useDebounced } from "@/lib/use-debounced";

export const CRON_PRESETS: { label: string; cron: string }[] = [
  { label: "Every 10 s", cron: "*/10 * * * * *" },
  { label: "Every minute", cron: "* * * * *" },
  { label: "Every 5 min", cron: "*/5 * * * *" },
  { label: "Hourly", cron: "0 * * * *" },
  { label: "Daily 09:00", cron: "0 9 * * *" },
  { label: "Weekdays 09:00", cron: "0 9 * * mon-fri" },
];

/**
 * A fire time as the zone's wall clock (what the cron expression means), with how far off it is. With
 * `zone`, a time the server wrote in UTC (a recorded fire) is turned into that zone's clock first.
 */
export function ZonedTime({
  value,
  zone,
  short,
  className,
}: {
  value: string;
  zone?: string;
  short?: boolean;
  className?: string;
}) {
  const z = (zone ? formatInZone(value, zone) : null) ?? formatZoned(value);
  return (
    <span className={className}>
      <span className="font-mono tabular-nums">{z ? (short ? z.short : z.text) : value}</span>
      {z && <span className="ml-1.5 text-muted-foreground">{z.offset}</span>}
      <RelativeTime value={value} className="ml-2 text-muted-foreground" />
    </span>
  );
}

/**
 * The next five fire times of what is typed, in the chosen zone, asked of the server once typing pauses
 * (GET /api/schedules/preview): the server's parser decides, and its 422 says what is wrong. `problem`
 * is that message (or that nothing is typed), so the form can wait for a fix.
 */
export function useCronPreview(cron: string, timezone: string) {
  const c = useDebounced(cron.trim(), 300);
  const tz = useDebounced(timezone.trim() || "UTC", 300);
  const query = useQuery({
    queryKey: keys.schedulePreview(c, tz),
    queryFn: ({ signal }) => api.previewSchedule(c, tz, 5, signal),
    enabled: c !== "",
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const problem = c === "" ? "Write a cron expression" : query.isError ? errorMessage(query.error) : null;
  return { cron: c, timezone: tz, query, problem };
}

export function CronHelper({ preview }: { preview: ReturnType<typeof useCronPreview> }) {
  const { cron: c, timezone: tz, query: q, problem } = preview;
  return (
    <div className="rounded-lg border bg-muted/30 px-3 py-2.5" data-testid="cron-preview" aria-live="polite">
      <p className="mb-1.5 text-xs font-medium text-muted-foreground">
        Next fire times in <span className="font-mono">{tz}</span>
      </p>
      {c === "" ? (
        <p className="text-xs text-muted-foreground">Write an expression to see when it fires.</p>
      ) : q.isError ? (
        <p role="alert" data-testid="cron-error" className="flex items-start gap-1.5 text-xs text-destructive">
          <AlertTriangleIcon className="mt-0.5 size-3.5 shrink-0" />
          <span className="break-words">{problem}</span>
        </p>
      ) : q.isPending ? (
        <div className="flex flex-col gap-1.5">
          {[0, 1, 2, 3, 4].map((i) => (
            <Skeleton key={i} className="h-4 w-64" />
          ))}
        </div>
      ) : (
        <ol className={q.isPlaceholderData ? "opacity-60" : undefined}>
          {q.data.times.map((t) => (
            <li key={t} className="text-xs" data-testid="cron-time">
              <ZonedTime value={t} />
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
