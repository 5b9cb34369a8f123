// A workflow run's steps laid out for the page: the waterfall (one bar per step on the run's time axis),
// its ticks, the sleep a run is in and a countdown to its end. Pure, so Vitest covers it; the page
// passes `now` in and re-renders on its own clock.
import { toDate } from "./format";
import { isTerminal } from "./status";
import type { Job, Step, StepKind, StepStatus } from "./types";

/** The job fields the layout reads (a list row would do, with its steps). */
export type RunTimes = Pick<Job, "status" | "created_at" | "started_at" | "finished_at" | "run_at">;

/** A workflow run: it has recorded steps, or says it will (steps is 0 before the first). */
export function isWorkflow(job: Pick<Job, "steps" | "step_history">): boolean {
  return job.steps != null || (job.step_history?.length ?? 0) > 0;
}

export interface WaterfallBar {
  /** Unique per row: a step's name, or "·running" for the call under way. */
  key: string;
  name: string;
  /** "run": the executor call in flight, whose step is not recorded until it ends. */
  kind: StepKind | "run";
  status: StepStatus | "running";
  /** Percent of the axis where the bar starts. */
  left: number;
  /** Percent: the part that has happened (up to its end, or now). */
  width: number;
  /** Percent after `width`: a sleep's time still ahead (now → until). */
  planned: number;
  /** Still growing: drawn striped and moving. */
  ongoing: boolean;
  /** Milliseconds from the axis start. */
  startMs: number;
  endMs: number;
  /** When a sleep ends (absolute ms), for its label. */
  plannedEndMs: number | null;
}

export interface Tick {
  /** Percent of the axis. */
  at: number;
  label: string;
}

export interface Waterfall {
  /** The axis, in epoch ms: the job's creation to its end (or now, or the end of a sleep under way). */
  start: number;
  end: number;
  bars: WaterfallBar[];
  ticks: Tick[];
  /** Percent where "now" is, when the axis reaches past it (a sleep's planned part); else null. */
  nowAt: number | null;
}

const ms = (v: string | null | undefined): number | null => toDate(v)?.getTime() ?? null;

/**
 * Lays the steps out on one time axis from the job's creation. A finished step spans started_at →
 * finished_at; one under way spans to now (to the job's end if the job ended around it, e.g. a
 * cancelled sleep), and a sleep under way adds its planned part to `until`. While the job is running,
 * a last bar stands for the call in flight: its step is recorded only when the call ends.
 */
export function layoutWaterfall(job: RunTimes, steps: readonly Step[], now: number): Waterfall {
  const terminal = isTerminal(job.status);
  const jobEnd = terminal ? (ms(job.finished_at) ?? now) : now;
  const ordered = [...steps].sort((a, b) => a.seq - b.seq);

  type Span = { step: Step | null; start: number; end: number; planned: number | null; ongoing: boolean };
  const spans: Span[] = ordered.map((step) => {
    const start = ms(step.started_at) ?? jobEnd;
    const finished = ms(step.finished_at);
    if (finished != null) return { step, start, end: Math.max(start, finished), planned: null, ongoing: false };
    const end = Math.max(start, jobEnd);
    const until = ms(step.until);
    const planned = !terminal && step.kind === "sleep" && until != null && until > end ? until : null;
    return { step, start, end, planned, ongoing: !terminal };
  });
  if (job.status === "running") {
    // From the later of the call's start and the last finished step (a step retried in this call is
    // still open, and its bar runs beside this one).
    const lastEnd = spans.reduce((m, s) => (s.ongoing ? m : Math.max(m, s.end)), 0);
    const start = Math.max(ms(job.started_at) ?? now, lastEnd);
    spans.push({ step: null, start: Math.min(start, now), end: now, planned: null, ongoing: true });
  }

  const created = ms(job.created_at) ?? now;
  const start = Math.min(created, ...spans.map((s) => s.start));
  let end = Math.max(jobEnd, ...spans.map((s) => Math.max(s.end, s.planned ?? 0)));
  if (end <= start) end = start + 1;
  const span = end - start;
  const pct = (t: number) => ((t - start) / span) * 100;

  const bars: WaterfallBar[] = spans.map((s) => ({
    key: s.step ? s.step.name : "·running",
    name: s.step ? s.step.name : "running…",
    kind: s.step ? s.step.kind : "run",
    status: s.step ? s.step.status : "running",
    left: pct(s.start),
    width: pct(s.end) - pct(s.start),
    planned: s.planned != null ? pct(s.planned) - pct(s.end) : 0,
    ongoing: s.ongoing,
    startMs: s.start - start,
    endMs: s.end - start,
    plannedEndMs: s.planned,
  }));
  const nowAt = !terminal && end > now ? pct(now) : null;
  return { start, end, bars, ticks: ticks(span), nowAt };
}

// Tick spacings a person reads at a glance: 1-2-5 below a second, then round clock units.
const STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
  600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** The smallest round spacing that puts at most `max` intervals on the axis. */
export function tickSpacing(spanMs: number, max = 5): number {
  for (const s of STEPS_MS) if (spanMs / s <= max) return s;
  const day = 86_400_000;
  return Math.ceil(spanMs / max / day) * day;
}

/** Ticks at every round spacing from 0, each labelled with its offset from the start. */
export function ticks(spanMs: number, max = 5): Tick[] {
  if (!(spanMs > 0)) return [{ at: 0, label: "0" }];
  const step = tickSpacing(spanMs, max);
  const out: Tick[] = [];
  for (let t = 0; t <= spanMs + 1e-9; t += step) out.push({ at: (t / spanMs) * 100, label: offsetLabel(t) });
  return out;
}

/** An offset on the axis: "0", "+200 ms", "+1.5 s", "+2m", "+1m 30s", "+1h", "+2d". */
export function offsetLabel(t: number): string {
  if (t <= 0) return "0";
  if (t < 1000) return `+${Math.round(t)} ms`;
  if (t < 60_000) return `+${Number((t / 1000).toFixed(1))} s`;
  if (t < 3_600_000) {
    const m = Math.floor(t / 60_000);
    const s = Math.round((t % 60_000) / 1000);
    return s ? `+${m}m ${s}s` : `+${m}m`;
  }
  if (t < 86_400_000) {
    const h = Math.floor(t / 3_600_000);
    const m = Math.round((t % 3_600_000) / 60_000);
    return m ? `+${h}h ${m}m` : `+${h}h`;
  }
  const d = Math.floor(t / 86_400_000);
  const h = Math.round((t % 86_400_000) / 3_600_000);
  return h ? `+${d}d ${h}h` : `+${d}d`;
}

/** A set length as a person would write it: "500 ms", "1 s", "1m 30s", "2h". */
export function roundDuration(t: number): string {
  return t > 0 ? offsetLabel(t).slice(1) : "0 ms";
}

/** Time left as a ticking clock: "0:42", "12:05", "1:02:03", "3d 4h"; "0:00" once it has passed. */
export function formatCountdown(leftMs: number): string {
  const total = Math.max(0, Math.ceil(leftMs / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}:${pad(m)}:${pad(s)}`;
  return `${m}:${pad(s)}`;
}

/** The step a sleeping run sleeps in and when it wakes (the job's run_at when no step says so). */
export function currentSleep(job: RunTimes & { step_history?: Step[] | null }): { step: string | null; until: string | null } | null {
  if (job.status !== "sleeping") return null;
  const sleeping = [...(job.step_history ?? [])].reverse().find((s) => s.status === "sleeping");
  return { step: sleeping?.name ?? null, until: sleeping?.until ?? job.run_at ?? null };
}

/**
 * A step.do's config in words: "3 retries · 1 s exponential · timeout 30 s". The server keeps the
 * config as the run gave it, so every member is checked before it is read.
 */
export function describeConfig(config: Step["config"]): string {
  if (!config || typeof config !== "object") return "";
  const parts: string[] = [];
  const r = config.retries as Record<string, unknown> | null | undefined;
  if (r && typeof r === "object" && !Array.isArray(r)) {
    const limit = typeof r.limit === "number" ? r.limit : null;
    if (limit != null) parts.push(limit === 1 ? "1 retry" : `${limit} retries`);
    const delay = typeof r.delay_ms === "number" ? roundDuration(r.delay_ms) : null;
    const backoff = typeof r.backoff === "string" ? r.backoff : null;
    if (limit !== 0 && (delay || backoff)) parts.push([delay, backoff].filter(Boolean).join(" "));
  }
  if (typeof config.timeout_ms === "number") parts.push(`timeout ${roundDuration(config.timeout_ms)}`);
  return parts.join(" · ");
}
