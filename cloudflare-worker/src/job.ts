/**
 * The `Job` request and its validation (a bad field is a 400 naming the field).
 *
 * The shape and its limits come from the contract's JSON Schema, through the generated
 * `contract.gen.ts` (`make contract`); this checks them by hand, and fills in the defaults.
 */

import {
  CACHE_ID_MAX_LENGTH,
  CACHE_ID_MIN_LENGTH,
  CACHE_ID_PATTERN,
  JOB_DEFAULTS,
  JOB_MINIMUMS,
  type Job as JobRequest,
  type WorkflowState,
} from "./contract.gen";

/** A Job as received, with every absent field filled in (limits take their defaults, the rest null). */
export type Job = Required<JobRequest>;

export class BadRequest extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Absent or null: the default. Fractions are floored. */
function limit(o: Record<string, unknown>, key: keyof typeof JOB_DEFAULTS, path: string): number {
  const v = o[key];
  if (v === undefined || v === null) return JOB_DEFAULTS[key];
  const min = JOB_MINIMUMS[key];
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
  // Lenient where the schema is not (it wants code non-empty, limits integers): empty code runs as
  // an empty function body, a null limit is its default, a fraction is floored.
  if (typeof v.code !== "string") throw new BadRequest(`${path}code must be a string`);
  const cache_id = optString(v, "cache_id", path);
  if (cache_id !== null && (cache_id.length < CACHE_ID_MIN_LENGTH || cache_id.length > CACHE_ID_MAX_LENGTH)) {
    throw new BadRequest(`${path}cache_id must be ${CACHE_ID_MIN_LENGTH}..${CACHE_ID_MAX_LENGTH} characters`);
  }
  if (cache_id !== null && !CACHE_ID_PATTERN.test(cache_id)) {
    throw new BadRequest(`${path}cache_id must match ${CACHE_ID_PATTERN.source}`);
  }
  if (requireCacheId && cache_id === null) throw new BadRequest(`${path}cache_id must be a non-empty string for /get`);
  return {
    code: v.code,
    payload: v.payload === undefined ? null : v.payload,
    cache_id,
    timeout_ms: limit(v, "timeout_ms", path),
    max_log_lines: limit(v, "max_log_lines", path),
    max_log_bytes: limit(v, "max_log_bytes", path),
    max_result_bytes: limit(v, "max_result_bytes", path),
    max_children: limit(v, "max_children", path),
    trace_id: optString(v, "trace_id", path),
    job_id: optNumber(v, "job_id", path),
    attempt: optNumber(v, "attempt", path),
    created_at: optString(v, "created_at", path),
    workflow: workflowState(v.workflow, path),
  };
}

/** A workflow's stored steps, as the dispatcher sends them: an object with a steps array of named steps. */
function workflowState(v: unknown, path: string): WorkflowState | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v) || !Array.isArray(v.steps)) throw new BadRequest(`${path}workflow must be {steps: [...]} or null`);
  v.steps.forEach((s, i) => {
    if (!isObject(s) || typeof s.name !== "string" || typeof s.kind !== "string" || typeof s.status !== "string") {
      throw new BadRequest(`${path}workflow.steps[${i}] must have a string name, kind and status`);
    }
  });
  return v as unknown as WorkflowState;
}

export function parseBatch(v: unknown): Job[] {
  if (!isObject(v)) throw new BadRequest("body must be a JSON object");
  if (!Array.isArray(v.jobs)) throw new BadRequest("jobs must be an array");
  return v.jobs.map((j, i) => parseJob(j, `jobs[${i}].`));
}
