import { BellRingIcon, type LucideIcon, MoonIcon, PlayIcon, SquareFunctionIcon } from "lucide-react";
import { Tooltip } from "@/components/ui/tooltip";
import { formatClock, formatDuration } from "@/lib/format";
import { stepStyle } from "@/lib/status";
import type { Step } from "@/lib/types";
import { cn } from "@/lib/utils";
import { layoutWaterfall, type RunTimes, type WaterfallBar } from "@/lib/workflow";

export const KIND_ICON: Record<WaterfallBar["kind"], LucideIcon> = {
  do: SquareFunctionIcon,
  sleep: MoonIcon,
  wait: BellRingIcon,
  run: PlayIcon,
};

export const KIND_LABEL: Record<WaterfallBar["kind"], string> = {
  do: "step.do",
  sleep: "step.sleep",
  wait: "step.waitForEvent",
  run: "the call under way",
};

function barColour(b: WaterfallBar): string {
  return b.status === "running" ? "bg-sky-500/80" : stepStyle(b.status).bar;
}

function BarTip({ bar, origin }: { bar: WaterfallBar; origin: number }) {
  const label = bar.status === "running" ? "Running" : stepStyle(bar.status).label;
  return (
    <div className="flex flex-col gap-0.5">
      <p className="font-mono font-medium">{bar.name}</p>
      <p>
        {KIND_LABEL[bar.kind]} · {label}
      </p>
      <p className="font-mono tabular-nums opacity-80">
        {formatClock(origin + bar.startMs)} → {bar.ongoing ? "now" : formatClock(origin + bar.endMs)} (
        {formatDuration(bar.endMs - bar.startMs)})
      </p>
      {bar.plannedEndMs != null && (
        <p className="font-mono tabular-nums opacity-80">until {formatClock(bar.plannedEndMs)}</p>
      )}
    </div>
  );
}

/**
 * The run on one time axis, from the job's creation: a bar per step, coloured by its status; a bar
 * under way is striped and moving, a sleep's time still ahead hatched after the "now" line.
 */
export function Waterfall({ job, steps, now }: { job: RunTimes; steps: Step[]; now: number }) {
  const w = layoutWaterfall(job, steps, now);
  if (w.bars.length === 0) return null;
  return (
    <div className="flex flex-col gap-1" data-testid="waterfall" role="figure" aria-label="Steps on a time axis">
      <div className="grid grid-cols-[minmax(6rem,11rem)_minmax(0,1fr)_5rem] items-end gap-x-3">
        <span />
        <div className="relative h-4 text-[10px] text-muted-foreground tabular-nums">
          {w.ticks.map((t, i) => (
            <span
              key={t.at}
              className={cn(
                "absolute bottom-0 whitespace-nowrap",
                i === 0 ? "" : t.at > 96 ? "-translate-x-full" : "-translate-x-1/2",
              )}
              style={{ left: `${t.at}%` }}
            >
              {t.label}
            </span>
          ))}
        </div>
        <span />
      </div>
      <ol className="flex flex-col">
        {w.bars.map((b) => {
          const Icon = KIND_ICON[b.kind];
          return (
            <li
              key={b.key}
              data-bar={b.key}
              data-status={b.status}
              className="grid grid-cols-[minmax(6rem,11rem)_minmax(0,1fr)_5rem] items-center gap-x-3 py-0.5"
            >
              <span className="flex min-w-0 items-center gap-1.5 text-xs">
                <Icon className="size-3.5 shrink-0 text-muted-foreground" aria-label={KIND_LABEL[b.kind]} />
                <span className={cn("truncate font-mono", b.kind === "run" && "text-muted-foreground italic")}>
                  {b.name}
                </span>
              </span>
              <div className="relative h-5 rounded-sm bg-muted/40">
                {w.ticks.map((t) => (
                  <span key={t.at} className="absolute inset-y-0 w-px bg-border/70" style={{ left: `${t.at}%` }} />
                ))}
                {w.nowAt != null && (
                  <span
                    className="absolute -inset-y-0.5 w-px border-l border-dashed border-foreground/40"
                    style={{ left: `${w.nowAt}%` }}
                  />
                )}
                <Tooltip content={<BarTip bar={b} origin={w.start} />}>
                  <span
                    className="absolute inset-y-1 flex"
                    style={{ left: `${b.left}%`, width: `${b.width + b.planned}%`, minWidth: 3 }}
                  >
                    <span
                      className={cn(
                        "h-full min-w-[3px] rounded-sm transition-[width] duration-1000 ease-linear",
                        barColour(b),
                        b.ongoing && "bar-ongoing",
                        b.planned > 0 && "rounded-r-none",
                      )}
                      style={{ width: `${b.planned > 0 ? (b.width / (b.width + b.planned)) * 100 : 100}%` }}
                    />
                    {b.planned > 0 && (
                      <span
                        className="bar-planned h-full flex-1 rounded-r-sm border border-l-0 border-dashed border-indigo-400/70 text-indigo-500"
                        data-testid="bar-planned"
                      />
                    )}
                  </span>
                </Tooltip>
              </div>
              <span className="text-right font-mono text-[11px] text-muted-foreground tabular-nums">
                {formatDuration(b.endMs - b.startMs)}
                {b.ongoing ? "…" : ""}
              </span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}
