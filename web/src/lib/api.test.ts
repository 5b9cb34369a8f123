import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, createApi, createApiClient, problemOf, queryString } from "./api";
import { authSnapshot, setToken } from "./auth";

/** A fetch that records each request and answers from `reply`. */
function fakeFetch(reply: (req: Request) => Response | Promise<Response>) {
  const seen: Request[] = [];
  const fetch = async (req: Request) => {
    seen.push(req);
    return reply(req);
  };
  return { seen, api: createApi(createApiClient({ baseUrl: "http://dymunim.test", fetch })) };
}

const json = (body: unknown, status = 200, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });

const problem = (status: number, title: string, detail: string) =>
  json({ type: "about:blank", title, status, detail }, status, "application/problem+json");

// auth.ts keeps the token in localStorage, which node has not: a Map stands in for it.
beforeEach(() => {
  const store = new Map<string, string>();
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => store.set(k, v),
    removeItem: (k: string) => store.delete(k),
  });
  setToken(null);
});
afterEach(() => vi.unstubAllGlobals());

describe("queryString", () => {
  it("drops empty parameters", () => {
    expect(queryString({ status: "failed", q: "", cursor: null, limit: 50, cache_id: undefined })).toBe(
      "status=failed&limit=50",
    );
    expect(queryString({})).toBe("");
  });
});

describe("problemOf", () => {
  it("shows the problem's detail", () => {
    const e = problemOf(409, "Conflict", { title: "Conflict", status: 409, detail: "job 3 is running" });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(409);
    expect(e.title).toBe("Conflict");
    expect(e.message).toBe("job 3 is running");
  });
  it("falls back to the text, then the title", () => {
    expect(problemOf(502, "Bad Gateway", "upstream down").message).toBe("upstream down");
    expect(problemOf(502, "Bad Gateway", "").message).toBe("Bad Gateway");
    expect(problemOf(500, "", undefined).message).toBe("HTTP 500");
  });
});

describe("the client", () => {
  it("sends the stored token, the typed path and the non-empty query", async () => {
    setToken("s3cret");
    const { seen, api } = fakeFetch(() => json({ jobs: [], next_cursor: null }));
    const page = await api.listJobs({ status: "failed", q: "", limit: 20, cursor: null });
    expect(page).toEqual({ jobs: [], next_cursor: null });
    const req = seen[0];
    expect(req.method).toBe("GET");
    expect(req.url).toBe("http://dymunim.test/api/jobs?status=failed&limit=20");
    expect(req.headers.get("Authorization")).toBe("Bearer s3cret");
    expect(req.headers.get("Accept")).toBe("application/json");
  });

  it("posts a JSON body and fills path parameters", async () => {
    const { seen, api } = fakeFetch(() => json({ job_id: 7 }, 201));
    await api.submitJob({ code: "return 1", payload: { a: 1 } }, 30);
    expect(seen[0].url).toBe("http://dymunim.test/api/jobs?wait=30");
    expect(seen[0].headers.get("Content-Type")).toBe("application/json");
    expect(seen[0].headers.get("Authorization")).toBeNull(); // no token stored
    expect(await seen[0].json()).toEqual({ code: "return 1", payload: { a: 1 } });
    await api.retryJob(7);
    expect(seen[1].method).toBe("POST");
    expect(seen[1].url).toBe("http://dymunim.test/api/jobs/7/retry");
  });

  it("passes the chain filters of a job list", async () => {
    const { seen, api } = fakeFetch(() => json({ jobs: [], next_cursor: null }));
    await api.listJobs({ worker_id: "w-1", trace_id: "t 1", parent_job_id: 7, event_id: undefined, schedule_id: "" });
    expect(seen[0].url).toBe("http://dymunim.test/api/jobs?worker_id=w-1&trace_id=t+1&parent_job_id=7");
  });

  it("reaches the trigger routes: versions, runs, schedules, previews, events, subscriptions", async () => {
    const { seen, api } = fakeFetch(() => json({}));
    await api.listWorkers({ q: "sum", limit: 5 });
    await api.saveWorkerVersion("w/1", "return 2");
    await api.getWorkerVersion("w1", 3);
    await api.runWorker("w1", { payload: { a: 1 } }, 30);
    await api.previewSchedule("*/5 * * * *", "Europe/Berlin");
    await api.pauseSchedule("s1");
    await api.listPublished({ name: "order.paid", limit: 30, cursor: null });
    await api.subscribe("w1", "order.*");
    await api.unsubscribe("sub1");
    expect(seen.map((r) => `${r.method} ${r.url.replace("http://dymunim.test", "")}`)).toEqual([
      "GET /api/workers?q=sum&limit=5",
      "POST /api/workers/w%2F1/versions",
      "GET /api/workers/w1/versions/3",
      "POST /api/workers/w1/run?wait=30",
      "GET /api/schedules/preview?cron=*%2F5+*+*+*+*&timezone=Europe%2FBerlin&n=5",
      "POST /api/schedules/s1/pause",
      "GET /api/events/published?name=order.paid&limit=30",
      "POST /api/subscriptions",
      "DELETE /api/subscriptions/sub1",
    ]);
    expect(await seen[1].json()).toEqual({ code: "return 2" });
    expect(await seen[3].json()).toEqual({ payload: { a: 1 } });
    expect(await seen[7].json()).toEqual({ worker_id: "w1", pattern: "order.*" });
  });

  it("throws the problem's detail as an ApiError", async () => {
    const { api } = fakeFetch(() => problem(409, "Conflict", "job 3 is running; cancel it first"));
    const err = await api.retryJob(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).message).toBe("job 3 is running; cancel it first");
    expect(authSnapshot().needsSignIn).toBe(false);
  });

  it("asks to sign in on a 401, saying why when a token was rejected", async () => {
    const { api } = fakeFetch(() => problem(401, "Unauthorized", "the token is not valid"));
    await expect(api.queues()).rejects.toThrow("the token is not valid");
    expect(authSnapshot()).toEqual({ needsSignIn: true, message: null }); // no token yet: no error shown
    setToken("old");
    await expect(api.queues()).rejects.toThrow(ApiError);
    expect(authSnapshot()).toEqual({ needsSignIn: true, message: "the token is not valid" });
  });

  it("checks a new token without the stored one and without the sign-in screen", async () => {
    setToken("stored");
    const { seen, api } = fakeFetch(() => problem(401, "Unauthorized", "the token is not valid"));
    await expect(api.checkToken("typed")).rejects.toThrow("the token is not valid");
    expect(seen[0].headers.get("Authorization")).toBe("Bearer typed");
    expect(seen[0].url).toBe("http://dymunim.test/api/jobs?limit=1");
    expect(authSnapshot().needsSignIn).toBe(false);
  });

  it("says the server is unreachable, but lets an abort through", async () => {
    const { api } = fakeFetch(() => {
      throw new TypeError("fetch failed");
    });
    const err = (await api.queues().catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/Cannot reach the dymunim server/);

    const aborted = fakeFetch(() => {
      throw new DOMException("aborted", "AbortError");
    });
    await expect(aborted.api.queues()).rejects.toMatchObject({ name: "AbortError" });
  });
});
