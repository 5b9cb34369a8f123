import { statusStyle, stepStyle } from "@/lib/status";
import { cn } from "@/lib/utils";

const PULSING = new Set(["running", "retrying"]);

/**
 * A job's status as a pill; `step` colours a workflow step's status instead. `pulse` says whether the
 * dot beats (by default: a job running or retrying).
 */
export function StatusBadge({
  status,
  className,
  step = false,
  pulse,
}: {
  status: string;
  className?: string;
  step?: boolean;
  pulse?: boolean;
}) {
  const s = step ? stepStyle(status) : statusStyle(status);
  const pulsing = pulse ?? PULSING.has(status);
  return (
    <span
      data-status={status}
      className={cn(
        "inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset",
        s.badge,
        className,
      )}
    >
      <span className="relative flex size-1.5">
        {pulsing && <span className={cn("absolute inline-flex size-full animate-ping rounded-full opacity-70", s.dot)} />}
        <span className={cn("relative inline-flex size-1.5 rounded-full", s.dot)} />
      </span>
      {s.label}
    </span>
  );
}
