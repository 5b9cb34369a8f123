/** The `Job` request type and its validation (a bad field is a 400 naming the field). */

export interface Job {
  code: string;
  payload: unknown;
  cache_id: string | null;
  timeout_ms: number;
  max_log_lines: number;
  max_log_bytes: number;
  max_result_bytes: number;
  trace_id: string | null;
  job_id: number | null;
  attempt: number | null;
}

export const DEFAULTS = {
  timeout_ms: 30_000,
  max_log_lines: 1000,
  max_log_bytes: 65_536,
  max_result_bytes: 1_048_576,
} as const;

export const MAX_CACHE_ID_LENGTH = 256;

export class BadRequest extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function limit(o: Record<string, unknown>, key: keyof typeof DEFAULTS, path: string, min: number): number {
  const v = o[key];
  if (v === undefined || v === null) return DEFAULTS[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new BadRequest(`${path}${key} must be a number >= ${min}`);
  }
  return Math.floor(v);
}

function optString(o: Record<string, unknown>, key: string, path: string): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new BadRequest(`${path}${key} must be a string or null`);
  return v;
}

function optNumber(o: Record<string, unknown>, key: string, path: string): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isFinite(v)) throw new BadRequest(`${path}${key} must be a number or null`);
  return v;
}

/** `path` prefixes field names in error messages, e.g. "jobs[3]." */
export function parseJob(v: unknown, path = "", requireCacheId = false): Job {
  if (!isObject(v)) throw new BadRequest(path ? `${path.slice(0, -1)} must be a JSON object` : "body must be a JSON object");
  if (typeof v.code !== "string") throw new BadRequest(`${path}code must be a string`);
  const cache_id = optString(v, "cache_id", path);
  if (cache_id !== null && (cache_id.length === 0 || cache_id.length > MAX_CACHE_ID_LENGTH)) {
    throw new BadRequest(`${path}cache_id must be 1..${MAX_CACHE_ID_LENGTH} characters`);
  }
  if (requireCacheId && cache_id === null) throw new BadRequest(`${path}cache_id must be a non-empty string for /get`);
  return {
    code: v.code,
    payload: v.payload === undefined ? null : v.payload,
    cache_id,
    timeout_ms: limit(v, "timeout_ms", path, 1),
    max_log_lines: limit(v, "max_log_lines", path, 0),
    max_log_bytes: limit(v, "max_log_bytes", path, 0),
    max_result_bytes: limit(v, "max_result_bytes", path, 0),
    trace_id: optString(v, "trace_id", path),
    job_id: optNumber(v, "job_id", path),
    attempt: optNumber(v, "attempt", path),
  };
}

export function parseBatch(v: unknown): Job[] {
  if (!isObject(v)) throw new BadRequest("body must be a JSON object");
  if (!Array.isArray(v.jobs)) throw new BadRequest("jobs must be an array");
  return v.jobs.map((j, i) => parseJob(j, `jobs[${i}].`));
}
