import { statusStyle } from "@/lib/status";
import { cn } from "@/lib/utils";

export function StatusBadge({ status, className }: { status: string; className?: string }) {
  const s = statusStyle(status);
  const pulsing = status === "running" || status === "retrying";
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
