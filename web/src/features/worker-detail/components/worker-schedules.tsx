import { Link } from "@tanstack/react-router";
import { ArrowRightIcon, CalendarClockIcon, PlusIcon } from "lucide-react";
import { RelativeTime } from "@/components/relative-time";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { nextRun } from "@/lib/schedules";
import type { Schedule } from "@/lib/types";

export function WorkerSchedules({ workerId, schedules }: { workerId: string; schedules: Schedule[] }) {
  const now = Date.now();
  return (
    <Card data-testid="worker-schedules">
      <CardHeader className="flex-row items-center justify-between">
        <CardTitle className="flex items-center gap-2">
          <CalendarClockIcon className="size-4 text-sky-500" /> Schedules
        </CardTitle>
        <div className="flex items-center gap-3 text-xs">
          <Link
            to="/schedules"
            search={{ new_for: workerId }}
            className="inline-flex items-center gap-1 text-primary hover:underline"
          >
            <PlusIcon className="size-3" /> New
          </Link>
          {schedules.length > 0 && (
            <Link
              to="/schedules"
              search={{ worker_id: workerId }}
              className="inline-flex items-center gap-1 text-primary hover:underline"
            >
              Manage <ArrowRightIcon className="size-3" />
            </Link>
          )}
        </div>
      </CardHeader>
      <CardContent>
        {schedules.length === 0 ? (
          <p className="rounded-lg border border-dashed px-3 py-3 text-center text-xs text-muted-foreground">
            No schedule runs this worker.
          </p>
        ) : (
          <ul className="divide-y rounded-lg border">
            {schedules.map((s) => {
              const next = nextRun(s, now);
              return (
                <li key={s.schedule_id} className="flex items-center gap-3 px-3 py-2 text-sm">
                  <div className="min-w-0 flex-1">
                    <Link
                      to="/schedules"
                      search={{ worker_id: workerId }}
                      className="block truncate font-medium hover:underline"
                    >
                      {s.name}
                    </Link>
                    <p className="truncate font-mono text-xs text-muted-foreground">
                      {s.cron} · {s.timezone}
                    </p>
                  </div>
                  {s.paused ? (
                    <Badge variant="warning">Paused</Badge>
                  ) : (
                    <span className="text-xs text-muted-foreground">
                      next <RelativeTime value={next} />
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
