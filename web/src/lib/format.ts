// Formatting shared by every page: durations, times, counts. Pure, so Vitest covers it.

/** 0.42 -> "0.42 ms", 12.3 -> "12 ms", 1530 -> "1.53 s", 95000 -> "1m 35s", 4000000 -> "1h 6m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  if (ms <= 0) return "0 ms";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const totalS = Math.round(s);
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${sec}s`;
}

/** Age in seconds -> "4s", "3m", "2h 5m", "3d". */
export function formatAge(sec: number | null | undefined): string {
  if (sec == null || !Number.isFinite(sec)) return "—";
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h}h ${m}m` : `${h}h`;
  }
  return `${Math.floor(s / 86400)}d`;
}

export function toDate(v: string | number | Date | null | undefined): Date | null {
  if (v == null || v === "") return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "just now", "12s ago", "5m ago", "3h ago", "2d ago"; future times read "in 5s". */
export function formatRelative(v: string | number | Date | null | undefined, now: number = Date.now()): string {
  const d = toDate(v);
  if (!d) return "—";
  const diff = (now - d.getTime()) / 1000;
  const abs = Math.abs(diff);
  if (abs < 5) return "just now";
  const age = formatAge(abs).split(" ")[0];
  return diff >= 0 ? `${age} ago` : `in ${age}`;
}

/** Local wall-clock time with milliseconds: "14:03:07.123". */
export function formatClock(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  if (!d) return "—";
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "2026-11-25 14:03:07" in local time. */
export function formatDateTime(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  if (!d) return "—";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function formatNumber(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "—";
  if (Math.abs(n) >= 1_000_000) return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, "")}M`;
  if (Math.abs(n) >= 10_000) return `${(n / 1000).toFixed(1).replace(/\.0$/, "")}k`;
  return n.toLocaleString("en-US");
}

/** 0..1 -> "97.5%"; null -> "—". */
export function formatPercent(r: number | null | undefined, digits = 1): string {
  if (r == null || !Number.isFinite(r)) return "—";
  const p = r * 100;
  if (p === 100 || p === 0) return `${p}%`;
  return `${p.toFixed(digits)}%`;
}

export function shortHash(h: string | null | undefined, n = 10): string {
  return h ? h.slice(0, n) : "—";
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A wall-clock time in some zone: "Thu 2026-11-26 09:00:00" (`text`) and "+02:00" or "UTC" (`offset`). */
export interface ZonedText {
  text: string;
  /** "11-26 09:00:00": for lists of recent times. */
  short: string;
  offset: string;
}

function zoned(y: string, mo: string, d: string, h: string, mi: string, s: string, offset: string): ZonedText {
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDay();
  const clock = `${h}:${mi}:${s}`;
  return { text: `${WEEKDAYS[day]} ${y}-${mo}-${d} ${clock}`, short: `${mo}-${d} ${clock}`, offset };
}

/**
 * A time the server wrote with its zone's offset ("2026-11-26T09:00:00+02:00"), read as that zone's wall
 * clock, not the browser's. Null when the text is no such time.
 */
export function formatZoned(iso: string | null | undefined): ZonedText | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso ?? "");
  if (!m) return null;
  const [, y, mo, d, h, mi, s = "00", off] = m;
  const norm = off && off !== "Z" ? (off.includes(":") ? off : `${off.slice(0, 3)}:${off.slice(3)}`) : "Z";
  return zoned(y, mo, d, h, mi, s, norm === "Z" || norm === "+00:00" || norm === "-00:00" ? "UTC" : norm);
}

/** Any time as the wall clock of an IANA zone (a UTC time of a schedule in its zone); null for an unknown zone. */
export function formatInZone(v: string | null | undefined, timeZone: string): ZonedText | null {
  const d = toDate(v);
  if (!d) return null;
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "longOffset",
    }).formatToParts(d);
  } catch {
    return null;
  }
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? "";
  const gmt = get("timeZoneName").replace(/^(GMT|UTC)/, "");
  const offset = !gmt || gmt === "+00:00" || gmt === "-00:00" ? "UTC" : gmt;
  return zoned(get("year"), get("month"), get("day"), get("hour"), get("minute"), get("second"), offset);
}

/** A failure rate with what it counts: "12.5% · 1 of 8" (null before any finished run). */
export function formatFailureRate(rate: number | null | undefined, failed: number, finished: number): string {
  if (rate == null || finished === 0) return "no runs yet";
  return `${formatPercent(rate)} · ${failed} of ${finished}`;
}
