import { BellRingIcon, MoonIcon } from "lucide-react";
import { RelativeTime } from "@/components/relative-time";
import { formatDateTime, toDate } from "@/lib/format";
import type { Job } from "@/lib/types";
import { currentSleep, formatCountdown } from "@/lib/workflow";
import { SendEventButton } from "./send-event-dialog";

/** A waiting run: what it waits for, until when, and the button that sends it. */
export function WaitingCallout({ job, onSend }: { job: Job; onSend: () => void }) {
  const w = job.waiting_for;
  return (
    <div
      role="status"
      data-testid="waiting-callout"
      className="flex flex-wrap items-center gap-x-4 gap-y-2 rounded-lg border border-violet-500/30 bg-violet-500/5 px-4 py-3"
    >
      <span className="flex size-8 shrink-0 items-center justify-center rounded-full bg-violet-500/15 text-violet-600 dark:text-violet-300">
        <BellRingIcon className="size-4" />
      </span>
      <div className="min-w-0 flex-1 text-sm">
        <p>
          Waiting for event{" "}
          <code className="rounded bg-violet-500/10 px-1 font-mono font-medium" data-testid="waiting-event-type">
            {w?.event_type ?? "?"}
          </code>
          {w?.step && (
            <>
              {" "}
              (step <code className="font-mono">{w.step}</code>)
            </>
          )}
          {w?.timeout_at ? (
            <>
              , times out{" "}
              <RelativeTime value={w.timeout_at} className="font-medium text-violet-700 dark:text-violet-300" />
            </>
          ) : (
            ", with no timeout"
          )}
        </p>
        <p className="mt-0.5 text-xs text-muted-foreground">
          Nothing runs until it comes. Send it from here, or from anywhere with POST /api/jobs/{job.job_id}/events.
        </p>
      </div>
      <SendEventButton onClick={onSend} />
    </div>
  );
}

/** A sleeping run: the step, when it wakes, and a countdown with how much of the nap has passed. */
export function SleepingCallout({ job, now }: { job: Job; now: number }) {
  const sleep = currentSleep(job);
  const until = toDate(sleep?.until)?.getTime() ?? null;
  const step = job.step_history?.find((s) => s.name === sleep?.step);
  const from = toDate(step?.started_at)?.getTime() ?? null;
  const left = until != null ? until - now : null;
  const done = from != null && until != null && until > from ? Math.min(1, Math.max(0, (now - from) / (until - from))) : null;
  return (
    <div
      role="status"
      data-testid="sleeping-callout"
      className="flex flex-wrap items-center gap-x-4 gap-y-2 rounded-lg border border-indigo-500/30 bg-indigo-500/5 px-4 py-3"
    >
      <span className="flex size-8 shrink-0 items-center justify-center rounded-full bg-indigo-500/15 text-indigo-600 dark:text-indigo-300">
        <MoonIcon className="size-4" />
      </span>
      <div className="min-w-0 flex-1 text-sm">
        <p>
          Sleeping until{" "}
          <time dateTime={sleep?.until ?? undefined} className="font-medium" title={formatDateTime(sleep?.until)}>
            {formatDateTime(sleep?.until)}
          </time>
          {sleep?.step && (
            <>
              {" "}
              (step <code className="font-mono">{sleep.step}</code>)
            </>
          )}
        </p>
        {done != null && (
          <div className="mt-2 h-1 w-full max-w-sm overflow-hidden rounded-full bg-indigo-500/15">
            <div
              className="h-full rounded-full bg-indigo-400 transition-[width] duration-1000 ease-linear"
              style={{ width: `${done * 100}%` }}
            />
          </div>
        )}
      </div>
      {left != null && (
        <div className="text-right">
          <p
            className="font-mono text-2xl font-semibold tracking-tight text-indigo-700 tabular-nums dark:text-indigo-300"
            data-testid="sleep-countdown"
            aria-live="off"
          >
            {formatCountdown(left)}
          </p>
          <p className="text-xs text-muted-foreground">{left > 0 ? "left" : "waking up…"}</p>
        </div>
      )}
    </div>
  );
}
