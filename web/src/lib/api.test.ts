import { describe, expect, it } from "vitest";
import { buildUrl, problemOf } from "./api";

describe("buildUrl", () => {
  it("drops empty parameters", () => {
    expect(buildUrl("/api/jobs", { status: "failed", q: "", cursor: null, limit: 50 })).toBe(
      "/api/jobs?status=failed&limit=50",
    );
    expect(buildUrl("/api/jobs")).toBe("/api/jobs");
  });
});

describe("problemOf", () => {
  it("shows the problem's detail", async () => {
    const res = new Response(JSON.stringify({ title: "Conflict", status: 409, detail: "job 3 is running" }), {
      status: 409,
    });
    const e = await problemOf(res);
    expect(e.status).toBe(409);
    expect(e.message).toBe("job 3 is running");
  });
  it("joins FastAPI validation errors", async () => {
    const body = { detail: [{ loc: ["body", "payload"], msg: "field required" }] };
    const e = await problemOf(new Response(JSON.stringify(body), { status: 422 }));
    expect(e.message).toBe("payload: field required");
  });
  it("falls back to the text", async () => {
    const e = await problemOf(new Response("upstream down", { status: 502, statusText: "Bad Gateway" }));
    expect(e.message).toBe("upstream down");
  });
});
