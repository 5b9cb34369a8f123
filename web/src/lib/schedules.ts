// What the schedule pages compute from GET /api/schedules: pure, so Vitest covers it.
import type { Schedule } from "./types";

export interface UpcomingRun {
  at: string;
  schedule: Schedule;
}

/**
 * The next `n` runs over every active schedule, soonest first, at most `perSchedule` of each (so one
 * every-10-seconds schedule does not hide the others); times already past are left out.
 */
export function upcomingRuns(
  schedules: readonly Schedule[],
  now: number,
  n: number,
  perSchedule = Number.POSITIVE_INFINITY,
): UpcomingRun[] {
  const runs: UpcomingRun[] = [];
  for (const s of schedules) {
    if (s.paused) continue;
    let taken = 0;
    for (const at of s.upcoming ?? []) {
      const t = Date.parse(at);
      if (taken >= perSchedule) break;
      if (Number.isFinite(t) && t >= now) {
        runs.push({ at, schedule: s });
        taken++;
      }
    }
  }
  runs.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.schedule.name.localeCompare(b.schedule.name));
  return runs.slice(0, n);
}

/** The first upcoming time not yet past (the list may be a few seconds old), else next_fire_at. */
export function nextRun(s: Schedule, now: number): string | null {
  if (s.paused) return null;
  return (s.upcoming ?? []).find((at) => Date.parse(at) >= now) ?? s.next_fire_at ?? null;
}

/** Same rule as the server (POST /api/subscriptions): an event name, a prefix ending in `*`, or `*`. */
export function checkPattern(pattern: string): string | null {
  const p = pattern.trim();
  if (!p) return "Write an event name such as order.paid, a prefix such as order.*, or * for every event";
  if (/^[A-Za-z0-9_.:/-]+\*?$|^\*$/.test(p)) return null;
  if (/\*./.test(p)) return "A * may only end the pattern (order.*)";
  return "Use letters, digits and _ . : / - only";
}

/** A few IANA zones to pick from; any other the browser knows can be typed. */
export function timeZones(): string[] {
  let all: string[] = [];
  try {
    all = Intl.supportedValuesOf("timeZone");
  } catch {
    all = [];
  }
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return [...new Set(["UTC", ...(local ? [local] : []), ...all])];
}
