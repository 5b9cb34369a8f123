// End-to-end tests of the executor on a real workerd (npm `workerd`, --experimental).
// Run with `npm test` (node --test test/).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TOKEN = "test-token-" + Math.random().toString(36).slice(2);
const COMPAT_DATE = "2025-09-01";

let proc = null;
let base = "";
let tmp = "";
let stderr = "";

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function killWorkerd() {
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    try { proc.kill("SIGKILL"); } catch {}
  }
}
process.on("exit", killWorkerd);

before(async () => {
  execFileSync(join(ROOT, "node_modules/.bin/esbuild"), [
    "src/index.ts", "--bundle", "--format=esm", "--platform=neutral", "--target=es2022",
    "--outfile=dist/worker.js", "--log-level=warning",
  ], { cwd: ROOT, stdio: "inherit" });

  const port = await freePort();
  tmp = mkdtempSync(join(tmpdir(), "dymunim-executor-test-"));
  // Exactly the shape the Python pool generates (absolute embed path + `--import-path /`).
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const mainWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "${join(ROOT, "dist/worker.js")}") ],
  compatibilityDate = "${COMPAT_DATE}",
  compatibilityFlags = [],
  bindings = [ (name = "LOADER", workerLoader = (id = "loader")), (name = "EXECUTOR_TOKEN", text = "${TOKEN}") ],
);
`;
  const configPath = join(tmp, "config.capnp");
  writeFileSync(configPath, config);
  proc = spawn(join(ROOT, "node_modules/.bin/workerd"),
    ["serve", "--experimental", "--import-path", "/", configPath],
    { stdio: ["ignore", "ignore", "pipe"] });
  proc.stderr.on("data", (d) => { stderr += d.toString(); });
  base = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`workerd exited (${proc.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`workerd did not become healthy: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(() => {
  killWorkerd();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function post(path, body, { token = TOKEN, raw = false } = {}) {
  const headers = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const r = await fetch(base + path, { method: "POST", headers, body: raw ? body : JSON.stringify(body) });
  const text = await r.text();
  let json;
  if ((r.headers.get("content-type") ?? "").startsWith("application/x-ndjson")) {
    json = { results: ndjsonResults(text) };
  } else {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status: r.status, json, text };
}

/** /batch answers one line per job, in finishing order: back into submission order, each index once. */
function ndjsonResults(text) {
  assert.ok(text.endsWith("\n"), "every line ends with a newline");
  const results = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const { index, ...outcome } = JSON.parse(line);
    assert.equal(results[index], undefined, `index ${index} twice`);
    results[index] = outcome;
  }
  assert.equal(results.filter((o) => o !== undefined).length, results.length, "no index missing");
  return results;
}

/** Streams /batch and records when each job's line arrived (ms after the request). */
async function batchArrivals(jobs) {
  const t0 = Date.now();
  const r = await fetch(base + "/batch", {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ jobs }),
  });
  assert.equal(r.status, 200);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const at = [], results = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const { index, ...o } = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      at[index] = Date.now() - t0;
      results[index] = o;
    }
  }
  return { at, results };
}

async function run(job, path = "/load") {
  const r = await post(path, job);
  assert.equal(r.status, 200, r.text);
  const o = r.json;
  for (const k of ["ok", "result", "error", "logs", "logs_truncated", "duration_ms", "cold"]) {
    assert.ok(k in o, `outcome lacks ${k}: ${r.text}`);
  }
  return o;
}

const uniq = () => Math.random().toString(36).slice(2);

test("health needs no token and reports the loader", async () => {
  const r = await fetch(`${base}/health`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { ok: true, loader: true });
});

test("bare function body is wrapped", async () => {
  const o = await run({ code: "return payload.a + payload.b", payload: { a: 2, b: 40 } });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.equal(o.result, 42);
  assert.equal(o.error, null);
  assert.equal(o.cold, true);
  assert.equal(typeof o.duration_ms, "number");
});

test("undefined result becomes null; payload defaults to null", async () => {
  const o = await run({ code: "if (payload !== null) throw new Error('payload ' + payload);" });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.equal(o.result, null);
});

test("export default async function gets payload and ctx", async () => {
  const o = await run({
    code: "export default async function (payload, ctx) { return { n: payload.n * 2, ctx }; }",
    payload: { n: 21 }, job_id: 7, attempt: 2, trace_id: "t-1",
  });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.deepEqual(o.result, { n: 42, ctx: { job_id: 7, attempt: 2, trace_id: "t-1" } });
});

test("Worker module with fetch: JSON response", async () => {
  const o = await run({
    code: `export default {
  async fetch(request, env, ctx) {
    const p = await request.json();
    return Response.json({ method: request.method, sum: p.a + p.b });
  }
};`,
    payload: { a: 1, b: 2 },
  });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.deepEqual(o.result, { method: "POST", sum: 3 });
});

test("Worker module with fetch: text response", async () => {
  const o = await run({ code: `export default { fetch() { return new Response("hello, world"); } };` });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.equal(o.result, "hello, world");
});

test("Worker module with fetch: non-2xx fails naming the status", async () => {
  const o = await run({ code: `export default { fetch() { return new Response("nope", { status: 503 }); } };` });
  assert.equal(o.ok, false);
  assert.match(o.error.message, /503/);
});

test("console capture with levels and formatting", async () => {
  const o = await run({
    code: `console.log("top-level", 1);
export default async function () {
  console.log("a", { x: 1 }, [1, 2]);
  console.info("i");
  console.warn("w");
  console.error(new Error("e!"));
  console.debug("d");
  return "done";
}`,
  });
  assert.equal(o.ok, true, JSON.stringify(o));
  const levels = o.logs.map((l) => l.level);
  assert.deepEqual(levels, ["log", "log", "info", "warn", "error", "debug"]);
  assert.equal(o.logs[0].message, "top-level 1");
  assert.equal(o.logs[1].message, 'a {"x":1} [1,2]');
  assert.match(o.logs[4].message, /^Error: e!\n\s+at .*job\.js:6/);
  assert.ok(!o.logs[4].message.includes("__dymunim"));
  for (const l of o.logs) assert.ok(!Number.isNaN(Date.parse(l.at)), l.at);
  assert.equal(o.logs_truncated, false);
});

test("log truncation by lines and by bytes adds one marker", async () => {
  let o = await run({ code: "for (let i = 0; i < 10; i++) console.log('line', i); return 1", max_log_lines: 3 });
  assert.equal(o.ok, true);
  assert.equal(o.logs_truncated, true);
  assert.equal(o.logs.length, 4);
  assert.equal(o.logs[2].message, "line 2");
  assert.equal(o.logs[3].level, "warn");
  assert.match(o.logs[3].message, /^\[dymunim\] logs truncated: 7 more lines dropped/);

  o = await run({ code: "for (let i = 0; i < 10; i++) console.log('x'.repeat(100)); return 1", max_log_bytes: 250 });
  assert.equal(o.logs_truncated, true);
  assert.equal(o.logs.length, 3);
  assert.match(o.logs[2].message, /8 more lines dropped/);
});

test("thrown error gives name, message and stack in the user's lines", async () => {
  const o = await run({ code: "const x = 1;\nthrow new TypeError('bad thing ' + x);" });
  assert.equal(o.ok, false);
  assert.equal(o.result, null);
  assert.equal(o.error.name, "TypeError");
  assert.equal(o.error.message, "bad thing 1");
  assert.match(o.error.stack, /job\.js:2:7/);
  assert.ok(!o.error.stack.includes("__dymunim"), o.error.stack);

  const o1 = await run({ code: "throw new RangeError('first line')" });
  assert.match(o1.error.stack, /job\.js:1:7\b/, o1.error.stack);

  const o2 = await run({ code: "throw 'a string'" });
  assert.deepEqual([o2.error.name, o2.error.message], ["Error", "a string"]);
});

test("custom error class name survives", async () => {
  const o = await run({ code: "class MyErr extends Error { constructor(m) { super(m); this.name = 'MyErr'; } }\nthrow new MyErr('x')" });
  assert.equal(o.error.name, "MyErr");
});

test("syntax error: SyntaxError with the parser's message and the user's line", async () => {
  const o = await run({ code: "const a = 1;\nlet x = ;\nreturn a" });
  assert.equal(o.ok, false);
  assert.equal(o.error.name, "SyntaxError");
  assert.match(o.error.message, /Unexpected token ';'/);
  assert.match(o.error.message, /line 2, column 9/);

  const o2 = await run({ code: "let x = ;" });
  assert.match(o2.error.message, /line 1, column 9/);

  const o3 = await run({ code: "export default function () {\n  return 1 +;\n}" }, "/get".replace("/get", "/load"));
  assert.equal(o3.error.name, "SyntaxError");
  assert.match(o3.error.message, /line 2/);

  const o4 = await run({ code: "return 1 +", cache_id: "syntax-" + uniq() }, "/get");
  assert.equal(o4.error.name, "SyntaxError");
  assert.equal(o4.cold, true);
});

test("top-level throw in a module fails the call", async () => {
  const o = await run({ code: "throw new Error('at import');\nexport default () => 1;" });
  assert.equal(o.ok, false);
  assert.equal(o.error.message, "at import");
});

test("fetch is blocked with NetworkBlockedError", async () => {
  const o = await run({ code: "const r = await fetch('https://example.com/x'); return r.status" });
  assert.equal(o.ok, false);
  assert.equal(o.error.name, "NetworkBlockedError");
  assert.ok(o.error.message.startsWith(
    "network is blocked: dymunim jobs cannot make outbound requests (fetch to https://example.com/x refused)"),
    o.error.message);
});

test("sockets are blocked by globalOutbound: null", async () => {
  const o = await run({
    code: `import { connect } from "cloudflare:sockets";
export default async function () { const s = connect("example.com:80"); await s.opened; return "connected"; }`,
  });
  assert.equal(o.ok, false, JSON.stringify(o));
});

test("non-JSON results are ResultError", async () => {
  for (const code of ["return 10n", "return () => 1", "return { f() {} }", "return Symbol('s')",
    "const a = {}; a.self = a; return a"]) {
    const o = await run({ code });
    assert.equal(o.ok, false, code);
    assert.equal(o.error.name, "ResultError", code);
    assert.match(o.error.message, /^result is not JSON-serialisable: .*; return plain objects/, code);
  }
});

test("result larger than max_result_bytes is ResultError", async () => {
  const o = await run({ code: "return 'x'.repeat(2000)", max_result_bytes: 1000 });
  assert.equal(o.ok, false);
  assert.equal(o.error.name, "ResultError");
  assert.match(o.error.message, /1000 bytes/);
});

test("timeout", async () => {
  const t0 = Date.now();
  const o = await run({ code: "await new Promise(r => setTimeout(r, 5000)); return 1", timeout_ms: 200 });
  assert.ok(Date.now() - t0 < 3000);
  assert.equal(o.ok, false);
  assert.equal(o.error.name, "TimeoutError");
  assert.equal(o.error.message, "exceeded 200 ms");
});

test("/get: warm second call, changed code under the same cache_id runs the new code", async () => {
  const cache_id = "warm-" + uniq();
  const a1 = await run({ code: "globalThis.n = (globalThis.n || 0) + 1; return ['v1', n]", cache_id }, "/get");
  assert.equal(a1.ok, true, JSON.stringify(a1));
  assert.deepEqual(a1.result, ["v1", 1]);
  assert.equal(a1.cold, true);
  const a2 = await run({ code: "globalThis.n = (globalThis.n || 0) + 1; return ['v1', n]", cache_id }, "/get");
  assert.deepEqual(a2.result, ["v1", 2]);
  assert.equal(a2.cold, false);
  const b1 = await run({ code: "return 'v2'", cache_id }, "/get");
  assert.equal(b1.result, "v2");
  assert.equal(b1.cold, true);
});

test("/get requires cache_id", async () => {
  const r = await post("/get", { code: "return 1" });
  assert.equal(r.status, 400);
  assert.match(r.json.error, /cache_id/);
});

test("/load is always a fresh isolate", async () => {
  const code = "globalThis.n = (globalThis.n || 0) + 1; return n";
  assert.equal((await run({ code })).result, 1);
  assert.equal((await run({ code })).result, 1);
  const cache_id = "load-" + uniq();
  for (let i = 0; i < 2; i++) {
    const o = await run({ code, cache_id });
    assert.deepEqual([o.result, o.cold], [1, true], "/load ignores cache_id");
  }
});

test("/batch: results in order, one failure does not fail neighbours", async () => {
  const cache_id = "batch-" + uniq();
  const r = await post("/batch", {
    jobs: [
      { code: "return payload * 2", payload: 1 },
      { code: "throw new Error('boom')" },
      { code: "return payload * 2", payload: 3, cache_id },
      { code: "let = ;" },
      { code: "return 'late'", timeout_ms: 5000 },
    ],
  });
  assert.equal(r.status, 200, r.text);
  const res = r.json.results;
  assert.equal(res.length, 5);
  assert.deepEqual(res.map((o) => o.ok), [true, false, true, false, true]);
  assert.equal(res[0].result, 2);
  assert.equal(res[1].error.message, "boom");
  assert.equal(res[2].result, 6);
  assert.equal(res[2].cold, true);
  assert.equal(res[3].error.name, "SyntaxError");
  assert.equal(res[4].result, "late");
});

test("/batch: jobs sharing a cache_id and code run in one isolate, each with its own outcome", async () => {
  const cache_id = "group-" + uniq();
  const code = `export default async function (p) {
  console.log("start", p.i);
  if (p.sleep) await new Promise((r) => setTimeout(r, p.sleep));
  if (p.throw) throw new TypeError("bad " + p.i);
  if (p.fn) return () => 1;
  console.info("end", p.i);
  return p.i * 10;
}`;
  const jobs = [
    { code, cache_id, payload: { i: 0 }, job_id: 1 },
    { code, cache_id, payload: { i: 1, sleep: 3000 }, timeout_ms: 150 },
    { code, cache_id, payload: { i: 2, throw: true } },
    { code, cache_id, payload: { i: 3, fn: true } },
    { code, cache_id, payload: { i: 4, sleep: 20 }, max_log_lines: 1 },
    { code: "return payload + 1", cache_id, payload: 5 },
  ];
  const t0 = Date.now();
  const r = await post("/batch", { jobs });
  assert.ok(Date.now() - t0 < 2000, "a timed-out neighbour answers at its own deadline");
  assert.equal(r.status, 200, r.text);
  const res = r.json.results;
  assert.equal(res.length, 6);
  assert.deepEqual(res.map((o) => o.ok), [true, false, false, false, true, true]);
  assert.equal(res[0].result, 0);
  assert.deepEqual(res[0].logs.map((l) => [l.level, l.message]), [["log", "start 0"], ["info", "end 0"]]);
  assert.equal(res[1].error.name, "TimeoutError");
  assert.equal(res[1].error.message, "exceeded 150 ms");
  assert.deepEqual(res[1].logs.map((l) => l.message), ["start 1"]);
  assert.equal(res[2].error.name, "TypeError");
  assert.equal(res[2].error.message, "bad 2");
  assert.equal(res[2].error.stack, "TypeError: bad 2\n    at default (job.js:4:22)");
  assert.equal(res[3].error.name, "ResultError");
  assert.equal(res[4].result, 40);
  assert.equal(res[4].logs_truncated, true);
  assert.equal(res[4].logs[0].message, "start 4");
  assert.equal(res[5].result, 6);
  assert.equal(res[5].cold, true);
  assert.equal(res.slice(0, 5).filter((o) => o.cold).length, 1, "one cold start for the shared isolate");
  for (const o of res) assert.equal(typeof o.duration_ms, "number");
  // warm now: the same group again is all warm
  const again = await post("/batch", { jobs: [jobs[0], jobs[0], jobs[4]] });
  assert.deepEqual(again.json.results.map((o) => [o.ok, o.cold]), [[true, false], [true, false], [true, false]]);
});

test("/batch: a cached group whose code does not start fails every job with the start-up error", async () => {
  const cache_id = "badgroup-" + uniq();
  const r = await post("/batch", { jobs: [1, 2, 3].map((i) => ({ code: "let = ;", cache_id, payload: i })) });
  assert.equal(r.status, 200, r.text);
  for (const o of r.json.results) {
    assert.equal(o.ok, false);
    assert.equal(o.error.name, "SyntaxError", JSON.stringify(o));
    assert.match(o.error.message, /line 1/);
  }
});

test("the same code under a cache_id is memoised but a change still runs the new code (single and batch)", async () => {
  const cache_id = "memo-" + uniq();
  for (let v = 1; v <= 3; v++) {
    const code = `return ${v}`;
    assert.equal((await run({ code, cache_id }, "/get")).result, v);
    const b = await post("/batch", { jobs: [{ code, cache_id }, { code, cache_id }] });
    assert.deepEqual(b.json.results.map((o) => o.result), [v, v]);
  }
});

test("concurrent calls in one cached isolate keep their logs separate", async () => {
  const cache_id = "conc-" + uniq();
  const code = `export default async function (payload) {
  for (let i = 0; i < 5; i++) {
    console.log("job", payload.id, "step", i);
    await new Promise((r) => setTimeout(r, 5 + ((payload.id * 7 + i) % 5)));
  }
  return payload.id;
}`;
  // warm it up so every call below shares the same isolate
  await run({ code, cache_id, payload: { id: 0 } }, "/get");
  const ids = Array.from({ length: 8 }, (_, i) => i + 1);
  const single = ids.slice(0, 4).map((id) => run({ code, cache_id, payload: { id } }, "/get"));
  const batch = post("/batch", { jobs: ids.slice(4).map((id) => ({ code, cache_id, payload: { id } })) });
  const outs = [...(await Promise.all(single)), ...(await batch).json.results];
  outs.forEach((o, i) => {
    const id = ids[i];
    assert.equal(o.ok, true, JSON.stringify(o));
    assert.equal(o.cold, false);
    assert.equal(o.result, id);
    assert.deepEqual(o.logs.map((l) => l.message), [0, 1, 2, 3, 4].map((s) => `job ${id} step ${s}`));
  });
});

test("auth: 401 without or with a wrong token", async () => {
  let r = await post("/load", { code: "return 1" }, { token: null });
  assert.equal(r.status, 401);
  assert.ok(typeof r.json.error === "string");
  r = await post("/load", { code: "return 1" }, { token: "wrong" });
  assert.equal(r.status, 401);
  r = await post("/batch", { jobs: [] }, { token: TOKEN + "x" });
  assert.equal(r.status, 401);
  r = await post("/nowhere", {}, { token: null });
  assert.equal(r.status, 401);
});

test("400 for bad bodies, 404 for unknown routes", async () => {
  const cases = [
    ["/load", "not json", /JSON/],
    ["/load", "[1,2]", /object/],
    ["/load", "{}", /code/],
    ["/load", JSON.stringify({ code: 5 }), /code/],
    ["/load", JSON.stringify({ code: "", timeout_ms: "x" }), /timeout_ms/],
    ["/load", JSON.stringify({ code: "", timeout_ms: 0 }), /timeout_ms/],
    ["/load", JSON.stringify({ code: "", max_log_lines: -1 }), /max_log_lines/],
    ["/load", JSON.stringify({ code: "", trace_id: 5 }), /trace_id/],
    ["/load", JSON.stringify({ code: "", job_id: "x" }), /job_id/],
    ["/get", JSON.stringify({ code: "", cache_id: "" }), /cache_id/],
    // The contract's limits (contract.schema.json, the public API's too): 200 characters of [A-Za-z0-9_.:-].
    ["/get", JSON.stringify({ code: "", cache_id: "x".repeat(201) }), /cache_id must be 1\.\.200 characters/],
    ["/batch", JSON.stringify({ jobs: [{ code: "", cache_id: "a b" }] }), /jobs\[0\]\.cache_id must match/],
    ["/batch", JSON.stringify({}), /jobs/],
    ["/batch", JSON.stringify({ jobs: [{ code: "" }, { code: 1 }] }), /jobs\[1\]\.code/],
  ];
  for (const [path, body, re] of cases) {
    const r = await post(path, body, { raw: true });
    assert.equal(r.status, 400, `${path} ${body}: ${r.text}`);
    assert.match(r.json.error, re, `${path} ${body}`);
  }
  const r = await post("/nope", {});
  assert.equal(r.status, 404);
  assert.ok(typeof r.json.error === "string");
});

test("batch of 100 warm jobs", async () => {
  const cache_id = "many-" + uniq();
  const jobs = Array.from({ length: 100 }, (_, i) => ({ code: "return payload + 1", payload: i, cache_id }));
  const r = await post("/batch", { jobs });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.results.map((o) => o.result), jobs.map((_, i) => i + 1));
  assert.equal(r.json.results.filter((o) => o.cold).length, 1);
});

test("the example capnp config has the same shape as the test's", () => {
  const example = readFileSync(join(ROOT, "workerd.capnp.example"), "utf8");
  assert.match(example, /workerLoader = \(id = "loader"\)/);
  assert.match(example, new RegExp(`compatibilityDate = "${COMPAT_DATE}"`));
});

test("/batch streams: a job's line leaves when it finishes, not when the batch does", async () => {
  const jobs = [
    { code: "await new Promise((r) => setTimeout(r, 1500)); return 'slow'" },
    ...Array.from({ length: 5 }, (_, i) => ({ code: "return payload", payload: i })),
  ];
  const { at, results } = await batchArrivals(jobs);
  assert.equal(results[0].result, "slow");
  for (let i = 1; i < jobs.length; i++) {
    assert.equal(results[i].result, i - 1);
    assert.ok(at[i] < 1000, `job ${i} arrived at ${at[i]} ms, before the slow job (${at[0]} ms)`);
  }
  assert.ok(at[0] >= 1400);
});

// Job code runs in the same realm as the sandbox's own module: whatever it does to built-ins, the
// parent checks the answer itself, so forgery fails that job only and limits still hold.
test("job code cannot forge its answer or lift its limits", async () => {
  const cache_id = "forge-" + uniq();
  const probes = {
    stringify: "JSON.stringify = function () { return '1,}' }; return 5",
    stringify2: `JSON.stringify = function () { return '{"ok":true,"result":1},{"ok":true,"result":2}' }; return 5`,
    encoder: "TextEncoder.prototype.encode = function () { return new Uint8Array(1) }; return 'x'.repeat(3 * 1024 * 1024)",
    importMain: "const m = await import('./__dymunim_main.js'); return typeof m.default",
    importCapture: "try { await import('./__dymunim_capture.js'); return 'reached' } catch (e) { return 'no capture module' }",
    logs: "for (let i = 0; i < 50000; i++) console.log('line', i); return 1",
    pushHook: "const orig = Array.prototype.push; Array.prototype.push = function (...a) { for (let i = 0; i < 2000; i++) orig.apply(this, a); return this.length }; console.log('x'); return 2",
    slice: "Array.prototype.slice = function () { return 'garbage' }; console.log('y'); return 3",
    promiseThen: "Promise.prototype.then = function () { return this }; return 4",
  };
  const names = Object.keys(probes);
  const jobs = [];
  for (const n of names) {
    jobs.push({ code: "return 'before'", payload: 0 });
    jobs.push({ code: probes[n], max_log_lines: 100, max_result_bytes: 1024 * 1024 });
    jobs.push({ code: "return payload * 2", payload: 21, cache_id });
  }
  const r = await post("/batch", { jobs });
  assert.equal(r.status, 200, r.text);
  const res = r.json.results;
  assert.equal(res.length, jobs.length);
  names.forEach((n, k) => {
    assert.deepEqual([res[3 * k].ok, res[3 * k].result], [true, "before"], n);
    assert.deepEqual([res[3 * k + 2].ok, res[3 * k + 2].result], [true, 42], n);
    const o = res[3 * k + 1];
    assert.ok(o.logs.length <= 101, `${n}: ${o.logs.length} log lines`);
    assert.ok(JSON.stringify(o.result ?? null).length <= 1024 * 1024, n);
  });
  const by = Object.fromEntries(names.map((n, k) => [n, res[3 * k + 1]]));
  assert.deepEqual([by.stringify.ok, by.stringify.result], [true, 5]);
  assert.deepEqual([by.stringify2.ok, by.stringify2.result], [true, 5]);
  assert.equal(by.encoder.ok, false);
  assert.equal(by.encoder.error.name, "ResultError");
  assert.match(by.encoder.error.message, /over the limit of 1048576 bytes/);
  assert.deepEqual([by.importMain.ok, by.importMain.result], [true, "function"]);
  assert.deepEqual([by.importCapture.ok, by.importCapture.result], [true, "no capture module"]);
  assert.equal(by.logs.logs.length, 101);
  assert.equal(by.logs.logs_truncated, true);
  assert.match(by.logs.logs[100].message, /49900 more lines dropped/);
  assert.equal(by.pushHook.result, 2);
  assert.ok(by.pushHook.logs.length <= 101);
  assert.equal(by.slice.result, 3);
  assert.deepEqual(by.slice.logs.map((l) => l.message), ["y"]);
  assert.equal(by.promiseThen.ok, true, JSON.stringify(by.promiseThen));
});

test("a runMany answer with forged indices settles each job once, from its own outcome", async () => {
  const cache_id = "forge-many-" + uniq();
  // Every call of this code replaces the entrypoint's runMany prototype... which is frozen.
  const code = `export default async function (p) {
  const m = await import('./__dymunim_main.js');
  try { m.default.prototype.runMany = async function (list, deliver) { await deliver([0, 0, 1, 99, -1], [{}, {}, {}, {}, {}]) } } catch {}
  return p;
}`;
  const r = await post("/batch", { jobs: [1, 2, 3].map((i) => ({ code, cache_id, payload: i })) });
  const again = await post("/batch", { jobs: [4, 5, 6].map((i) => ({ code, cache_id, payload: i })) });
  assert.deepEqual(r.json.results.map((o) => o.result), [1, 2, 3]);
  assert.deepEqual(again.json.results.map((o) => o.result), [4, 5, 6]);
});

test("unpaired surrogates become U+FFFD with a note; unhandled rejections are logged", async () => {
  const r = await post("/batch", { jobs: [
    { code: 'console.log("x\\udfff"); return "\\ud83d\\ude00 hi".slice(0, 1)' },
    { code: 'return { ["k\\ud800"]: ["\\udc00", "ok \\ud83d\\ude00"] }' },
    { code: 'Promise.reject(new TypeError("nobody caught me")); await new Promise((r) => setTimeout(r, 20)); return 1' },
    { code: 'throw new Error("bad \\ud800 error")' },
  ] });
  const [a, b, c, d] = r.json.results;
  assert.equal(a.ok, true);
  assert.equal(a.result, "\ufffd");
  assert.equal(a.logs[0].message, "x\ufffd");
  assert.match(a.logs.at(-1).message, /replaced 2 unpaired UTF-16 surrogates with U\+FFFD/);
  assert.deepEqual(b.result, { "k\ufffd": ["\ufffd", "ok \ud83d\ude00"] });
  assert.equal(c.ok, true);
  assert.equal(c.logs[0].level, "error");
  assert.match(c.logs[0].message, /^Unhandled promise rejection: TypeError: nobody caught me/);
  assert.equal(d.error.message, "bad \ufffd error");
});

test("ctx.enqueue and ctx.publish come back as effects of a successful job, in call order", async () => {
  const o = await run({
    code: "ctx.enqueue({code: 'return 1', payload: {n: payload.n + 1}, delay_ms: 5});" +
      "const p = {x: 1}; ctx.publish('order.paid', p, {idempotency_key: 'k'}); p.x = 2;" +
      "ctx.enqueue({worker_id: 'w_abc', idempotency_key: 'once'}); return ctx",
    payload: { n: 1 }, job_id: 3, attempt: 1, trace_id: "t",
  });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.deepEqual(o.result, { job_id: 3, attempt: 1, trace_id: "t" }, "a returned ctx is still plain JSON");
  assert.deepEqual(o.effects, [
    { type: "enqueue", worker_id: null, code: "return 1", payload: { n: 2 }, delay_ms: 5, idempotency_key: null },
    { type: "publish", name: "order.paid", data: { x: 1 }, idempotency_key: "k" },
    { type: "enqueue", worker_id: "w_abc", code: null, payload: null, delay_ms: null, idempotency_key: "once" },
  ]);
});

test("a failed job returns no effects; a bad call or one past max_children throws in the job", async () => {
  const failed = await run({ code: "ctx.enqueue({code: 'return 1'}); throw new Error('no')" });
  assert.equal(failed.ok, false);
  assert.equal(failed.effects, undefined);
  const none = await run({ code: "return 1" });
  assert.equal(none.effects, undefined, "no effects key when nothing was asked");
  const over = await run({ code: "ctx.enqueue({code: 'a'}); ctx.enqueue({code: 'b'})", max_children: 1 });
  assert.equal(over.ok, false);
  assert.equal(over.error.name, "ChainError");
  assert.match(over.error.message, /at most 1 jobs and events/);
  for (const [code, says] of [
    ["ctx.enqueue({payload: 1})", /worker_id .* or code/],
    ["ctx.enqueue({code: 'a', worker_id: 'w'})", /one of the two/],
    ["ctx.enqueue({code: 'a', delay_ms: -1})", /delay_ms/],
    ["ctx.enqueue({code: 'a', payload: 1n})", /not JSON-serialisable/],
    ["ctx.publish('')", /name must be a non-empty string/],
  ]) {
    const o = await run({ code });
    assert.equal(o.ok, false, code);
    assert.match(o.error.message, says, code);
  }
});

test("job code that replaces JSON.stringify does not change what its effects say", async () => {
  const o = await run({
    code: "const s = JSON.stringify; JSON.stringify = (v, r) => (v && v.type ? '{\"type\":\"nuke\"}' : s(v, r));" +
      "ctx.enqueue({code: 'return 1', payload: 7}); return 1",
  });
  assert.equal(o.ok, true, JSON.stringify(o));
  assert.deepEqual(o.effects, [
    { type: "enqueue", worker_id: null, code: "return 1", payload: 7, delay_ms: null, idempotency_key: null },
  ]);
});

// Durable workflows: each call replays run(event, step) with the steps stored so far and stops at the
// first new one (or a sleep or wait), reporting what it did.
const WF = `export default {
  async run(event, step) {
    const a = await step.do("a", async () => event.payload.n + 1);
    const b = await step.do("b", { retries: { limit: 2, delay: "2 seconds", backoff: "linear" }, timeout: "1 minute" },
                            async () => ({ twice: a * 2 }));
    await step.sleep("nap", "1 hour");
    const ev = await step.waitForEvent("ok", { type: "approved", timeout: "5 minutes" });
    return { a, b, got: ev.payload, at: event.timestamp.toISOString(), id: event.id };
  }
}`;
const wfCall = (steps, extra = {}) => run({ code: WF, payload: { n: 1 }, job_id: 9, created_at: "2026-01-02T03:04:05.000Z",
                                            workflow: steps === null ? null : { steps }, ...extra });

test("a workflow call runs the first new step and stops at the next one", async () => {
  const first = await wfCall(null);
  assert.equal(first.ok, true, JSON.stringify(first));
  assert.equal(first.result, null);
  assert.equal(first.workflow.suspended, true);
  assert.equal(first.workflow.steps.length, 1);
  const [a] = first.workflow.steps;
  assert.deepEqual([a.kind, a.name, a.ok, a.result], ["do", "a", true, 2]);
  assert.deepEqual(a.retries, { limit: 5, delay_ms: 10000, backoff: "exponential" }, "Cloudflare's defaults");

  const second = await wfCall([{ name: "a", kind: "do", status: "completed", result: 2, attempts: 1 }]);
  const [b, nap] = second.workflow.steps;
  assert.deepEqual([b.name, b.result, b.retries, b.timeout_ms], ["b", { twice: 4 }, { limit: 2, delay_ms: 2000, backoff: "linear" }, 60000]);
  assert.equal(nap.kind, "sleep", "a sleep right after a new step is reported in the same call");
  assert.ok(Math.abs(nap.until_ms - (Date.now() + 3600_000)) < 60_000, JSON.stringify(nap));

  const done = [{ name: "a", kind: "do", status: "completed", result: 2 },
                { name: "b", kind: "do", status: "completed", result: { twice: 4 } }];
  const stillAsleep = await wfCall([...done, { name: "nap", kind: "sleep", status: "sleeping", until_ms: 123 }]);
  assert.deepEqual(stillAsleep.workflow.steps, [{ kind: "sleep", name: "nap", until_ms: 123 }], "keeps its end");
  const waits = await wfCall([...done, { name: "nap", kind: "sleep", status: "completed" }]);
  assert.deepEqual(waits.workflow.steps, [{ kind: "wait", name: "ok", event_type: "approved", timeout_ms: 300000 }]);
  const last = await wfCall([...done, { name: "nap", kind: "sleep", status: "completed" },
                             { name: "ok", kind: "wait", status: "completed", result: { type: "approved", payload: "yes" } }]);
  assert.deepEqual([last.ok, last.workflow.suspended, last.workflow.steps], [true, false, []]);
  assert.deepEqual(last.result, { a: 2, b: { twice: 4 }, got: "yes", at: "2026-01-02T03:04:05.000Z", id: 9 });
  const timedOut = await wfCall([...done, { name: "nap", kind: "sleep", status: "completed" },
                                 { name: "ok", kind: "wait", status: "timed_out", event_type: "approved" }]);
  assert.equal(timedOut.ok, false);
  assert.equal(timedOut.error.name, "EventTimeoutError");
});

test("a failing step is reported with its error; a stored failure throws into run()", async () => {
  const code = `export default { async run(e, step) {
    try { await step.do("x", { retries: { limit: 1, delay: 10 } }, async (ctx) => { throw new TypeError("bad " + ctx.attempt); }); }
    catch (err) { return "caught " + err.name + ": " + err.message; }
  } }`;
  const o = await run({ code, workflow: { steps: [{ name: "x", kind: "do", status: "retrying", attempts: 1 }] } });
  assert.equal(o.ok, true);
  assert.equal(o.workflow.suspended, true);
  const [x] = o.workflow.steps;
  assert.deepEqual([x.ok, x.error.name, x.error.message], [false, "TypeError", "bad 2"]);
  const failed = await run({ code, workflow: { steps: [{ name: "x", kind: "do", status: "failed",
                                                         error: { name: "TypeError", message: "bad 2", stack: null } }] } });
  assert.deepEqual([failed.ok, failed.result, failed.workflow.suspended], [true, "caught TypeError: bad 2", false]);
});

test("the call's timeout inside a new step fails that step, not the run; parallel steps run one per call", async () => {
  const slow = await run({ code: "export default { async run(e, step) { await step.do('s', () => new Promise(() => {})); } }",
                           timeout_ms: 200 });
  assert.equal(slow.ok, true, JSON.stringify(slow));
  assert.deepEqual([slow.workflow.steps[0].name, slow.workflow.steps[0].ok, slow.workflow.steps[0].error.name],
                   ["s", false, "TimeoutError"]);
  const par = "export default { async run(e, step) { return await Promise.all([" +
    "step.do('p', async () => { await new Promise(r => setTimeout(r, 50)); return 1; }), step.do('q', async () => 2)]); } }";
  const one = await run({ code: par });
  assert.deepEqual(one.workflow.steps.map((s) => [s.name, s.result]), [["p", 1]], "the first new step finishes first");
  const two = await run({ code: par, workflow: { steps: [{ name: "p", kind: "do", status: "completed", result: 1 }] } });
  assert.deepEqual(two.workflow.steps.map((s) => [s.name, s.result]), [["q", 2]]);
  const all = await run({ code: par, workflow: { steps: [{ name: "p", kind: "do", status: "completed", result: 1 },
                                                         { name: "q", kind: "do", status: "completed", result: 2 }] } });
  assert.deepEqual([all.result, all.workflow.suspended], [[1, 2], false]);
});

test("step names, durations and configs are checked where the code calls them", async () => {
  for (const [body, name, says] of [
    ["await step.do('a', async () => 1); await step.do('a', async () => 2)", "WorkflowError", /unique per run/],
    ["await step.do('', async () => 1)", "TypeError", /1 to 200 characters/],
    ["await step.sleep('z', 'a while')", "TypeError", /"10 seconds"/],
    ["await step.sleep('z', -5)", "TypeError", /duration/],
    ["await step.do('a', { retries: { backoff: 'random' } }, async () => 1)", "TypeError", /backoff/],
    ["await step.waitForEvent('w', {})", "TypeError", /type must be/],
    ["await step.do('a')", "TypeError", /callback must be a function/],
  ]) {
    const o = await run({ code: `export default { async run(e, step) { ${body} } }` });
    assert.equal(o.ok, false, body);
    assert.equal(o.error.name, name, body);
    assert.match(o.error.message, says, body);
  }
  const renamed = await run({ code: "export default { async run(e, step) { await step.do('a', async () => 1); } }",
                             workflow: { steps: [{ name: "a", kind: "sleep", status: "completed" }] } });
  assert.equal(renamed.error.name, "WorkflowError");
  assert.match(renamed.error.message, /used this name for a step\.sleep; step names must be unique per run/);
  const sleepUntil = await run({ code: "export default { async run(e, step) { await step.sleepUntil('u', new Date('2030-01-01T00:00:00Z')); } }" });
  assert.deepEqual(sleepUntil.workflow.steps, [{ kind: "sleep", name: "u", until_ms: Date.parse("2030-01-01T00:00:00Z") }]);
  const cls = await run({ code: "export default class W { async run(e, step) { return await step.do('c', async () => 'class'); } }",
                          workflow: { steps: [{ name: "c", kind: "do", status: "completed", result: "class" }] } });
  assert.deepEqual([cls.ok, cls.result], [true, "class"], "a class with run() is a workflow too");
});

test("workflow code cannot forge its step reports past the parent's checks", async () => {
  const forge = (body) => run({ code: `export default { async run(e, step) { ${body} } }` });
  const big = await forge("await step.do('b', { retries: { limit: 0 } }, async () => 'x'.repeat(2 * 1024 * 1024))");
  assert.deepEqual([big.workflow.steps[0].ok, big.workflow.steps[0].error.name], [false, "ResultError"]);
  assert.match(big.workflow.steps[0].error.message, /step "b"/);
  const stringify = await forge("JSON.stringify = () => '{'; return await step.do('s', async () => ({ v: 1 }))");
  assert.equal(stringify.ok, true, JSON.stringify(stringify));
  assert.deepEqual(stringify.workflow.steps[0].result, { v: 1 }, "the parent re-serialises what the step returned");
});
