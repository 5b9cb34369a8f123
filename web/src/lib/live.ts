// One EventSource to /api/events for the whole app. Each event patches the job caches at once and
// schedules a throttled refetch of what an event cannot carry (results, logs, counts).
// EventSource cannot send headers, so the token rides as ?token= (the server accepts it for SSE only).
import { type QueryClient, type QueryKey } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { keys, type JobFilters } from "./api";
import { getToken } from "./auth";
import { applyEventToJob, applyEventToList, type InfiniteJobs, parseLiveEvent } from "./live-merge";
import type { Job, LiveEvent } from "./types";

export type LiveState = "connecting" | "live" | "offline";

let state: LiveState = "connecting";
const listeners = new Set<() => void>();
function setState(s: LiveState) {
  if (s === state) return;
  state = s;
  for (const l of listeners) l();
}

export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** Polling fallback: slow while the stream is up, quicker while it is down. */
export function fallbackInterval(): number {
  return state === "live" ? 15_000 : 4_000;
}

/** Calls `fn(key)` at most once per `ms` per key, always delivering the last request. */
export function throttleByKey(ms: number, fn: (key: string) => void) {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const last = new Map<string, number>();
  return (key: string) => {
    if (timers.has(key)) return;
    const wait = Math.max(0, (last.get(key) ?? 0) + ms - Date.now());
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        last.set(key, Date.now());
        fn(key);
      }, wait),
    );
  };
}

function applyEvent(qc: QueryClient, ev: LiveEvent, refresh: (key: string) => void) {
  qc.setQueryData<Job>(keys.job(ev.job_id), (old) => (old ? applyEventToJob(old, ev) : old));
  if (qc.getQueryData(keys.job(ev.job_id))) refresh(JSON.stringify(keys.job(ev.job_id)));

  for (const [key, data] of qc.getQueriesData<InfiniteJobs>({ queryKey: ["jobs", "list"] })) {
    const filter = (key[2] ?? {}) as JobFilters;
    const merged = applyEventToList(data, ev, filter);
    if (!merged) continue;
    if (merged.data !== data) qc.setQueryData(key, merged.data);
    // A job that finished needs its duration and result in the row; a new one needs the whole row.
    if (merged.refetch || ev.status !== "running") refresh(JSON.stringify(key));
  }
  refresh(JSON.stringify(keys.jobChildrenAll));
  refresh(JSON.stringify(keys.metricsAll));
  refresh(JSON.stringify(["dashboard"]));
  // Pages that show jobs beside other things: a worker's recent runs, an event's fan-out, a schedule's fires.
  refresh(JSON.stringify(keys.workers));
  refresh(JSON.stringify(keys.published));
  refresh(JSON.stringify(keys.schedules));
  refresh(JSON.stringify(keys.queues));
  if (ev.status === "dead" || ev.from === "dead") refresh(JSON.stringify(keys.deadLetters));
}

/** Opens the stream; returns a function that closes it. Reconnects with backoff. */
export function startLive(qc: QueryClient): () => void {
  const refresh = throttleByKey(1000, (k) => {
    void qc.invalidateQueries({ queryKey: JSON.parse(k) as QueryKey });
  });
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let backoff = 1000;
  let stopped = false;

  const open = () => {
    if (stopped) return;
    setState(state === "live" ? "connecting" : state);
    const token = getToken();
    es = new EventSource(token ? `/api/events?token=${encodeURIComponent(token)}` : "/api/events");
    es.onopen = () => {
      backoff = 1000;
      setState("live");
      // Anything may have happened while we were away.
      void qc.invalidateQueries();
    };
    es.onmessage = (m) => {
      const ev = parseLiveEvent(m.data as string);
      if (ev) applyEvent(qc, ev, refresh);
    };
    es.onerror = () => {
      // The browser retries by itself on a dropped connection, but not after an HTTP error
      // (404/401): then readyState is CLOSED and we schedule our own retry.
      setState("offline");
      if (es && es.readyState === EventSource.CLOSED) {
        es.close();
        es = null;
        timer = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 30_000);
      }
    };
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    es?.close();
  };
}
