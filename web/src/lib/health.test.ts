import { describe, expect, it } from "vitest";
import { healthRows } from "./health";

describe("healthRows", () => {
  it("lists known checks in order, then new ones, with their reasons", () => {
    const rows = healthRows({
      ok: false,
      checks: {
        executor: { ok: true, processes: [] },
        zeta_queue: { ok: false, error: "stuck" },
        dispatchers: { ok: false, error: "no dispatcher has reported", alive: [] },
        database: { ok: true },
        postgres: { ok: true, restarts: 2, last_restart_at: "2026-11-26T00:00:00Z" },
      },
    });
    expect(rows.map((r) => r.label)).toEqual([
      "Database",
      "Postgres (2 restarts)",
      "Dispatchers (0)",
      "Executor",
      "Zeta queue",
    ]);
    expect(rows.find((r) => r.name === "dispatchers")).toMatchObject({ ok: false, detail: "no dispatcher has reported" });
    expect(rows.find((r) => r.name === "zeta_queue")?.detail).toBe("stuck");
  });
});
