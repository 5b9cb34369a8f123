import type { Health, HealthCheck } from "./types";

export interface HealthRow {
  name: string;
  label: string;
  ok: boolean;
  /** Shown instead of "up" when the check is down, and as the row's tooltip. */
  detail?: string;
}

const KNOWN = ["database", "postgres", "dispatchers", "executor"];
const LABELS: Record<string, string> = {
  database: "Database",
  postgres: "Postgres",
  dispatchers: "Dispatchers",
  executor: "Executor",
};

function labelOf(name: string, check: HealthCheck): string {
  const base = LABELS[name] ?? name.charAt(0).toUpperCase() + name.slice(1).replaceAll("_", " ");
  if (name === "dispatchers" && Array.isArray(check.alive)) return `${base} (${check.alive.length})`;
  if (name === "postgres" && typeof check.restarts === "number" && check.restarts > 0) {
    return `${base} (${check.restarts} restart${check.restarts === 1 ? "" : "s"})`;
  }
  return base;
}

/** One row per check of GET /api/health: the known ones first in a fixed order, then any new ones. */
export function healthRows(health: Health): HealthRow[] {
  const names = Object.keys(health.checks);
  const ordered = [...KNOWN.filter((n) => names.includes(n)), ...names.filter((n) => !KNOWN.includes(n)).sort()];
  return ordered.flatMap((name) => {
    const check = health.checks[name];
    if (!check) return [];
    return [{ name, label: labelOf(name, check), ok: !!check.ok, detail: check.error ?? undefined }];
  });
}
