"use strict";
// Graphile Worker 0.17.3 peer for bench/peers.py. The connection comes from the PG* environment
// variables (PGHOST may be a unix socket directory). Protocol lines on stdout start with "@@ ";
// Graphile's own log (warnings and errors only) goes to stderr.
//
//   node runner.js add N   migrate, then add N no-op jobs with ONE WorkerUtils.addJobs call
//   node runner.js worker  load and connect, print "@@ loaded", then on stdin:
//                          "go"   -> run() the worker, print "@@ started"
//                          "stop" -> runner.stop(), print "@@ ran <no-op jobs run here>", exit
//                          EOF    -> exit at once (the parent is gone)
const readline = require("node:readline");
const { Logger, makeWorkerUtils, run } = require("graphile-worker");

// The "batched" configuration of https://worker.graphile.org/docs/performance (the options
// documented in node_modules/graphile-worker/dist/index.d.ts, read in dist/main.js).
const CONCURRENCY = 24;
const preset = {
  worker: {
    concurrentJobs: CONCURRENCY,
    maxPoolSize: CONCURRENCY + 1,
    localQueue: { size: 500 },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
};

const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") process.stderr.write(`[graphile ${level}] ${message}\n`);
});

const say = (line) => process.stdout.write(`@@ ${line}\n`);

async function add(n) {
  const utils = await makeWorkerUtils({ preset, logger });
  try {
    await utils.migrate();
    const specs = Array.from({ length: n }, (_, i) => ({ identifier: "noop", payload: { i } }));
    const t0 = process.hrtime.bigint();
    const jobs = await utils.addJobs(specs);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    say(`added ${jobs.length} ${seconds}`);
  } finally {
    await utils.release();
  }
}

async function worker() {
  let ran = 0;
  const taskList = {
    noop: async () => {
      ran++;
    },
    // Idle latency: record when the job ran by the database clock, beside when it was added.
    stamp: async (payload, helpers) => {
      await helpers.withPgClient((client) =>
        client.query("INSERT INTO bench_lat (seq, added_at, done_at) VALUES ($1, $2::timestamptz, clock_timestamp())", [
          payload.seq,
          payload.added_at,
        ]),
      );
    },
  };
  let runner = null;
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("close", () => process.exit(runner ? 3 : 0));
  say("loaded");
  for await (const line of lines) {
    if (line === "go" && !runner) {
      runner = await run({ preset, logger, taskList, noHandleSignals: true });
      runner.promise.catch((e) => {
        process.stderr.write(`worker failed: ${e?.stack ?? e}\n`);
        process.exit(2);
      });
      say("started");
    } else if (line === "stop") {
      if (runner) await runner.stop();
      say(`ran ${ran}`);
      process.exit(0);
    }
  }
}

const [mode, arg] = process.argv.slice(2);
(mode === "add" ? add(Number(arg)) : mode === "worker" ? worker() : Promise.reject(new Error(`mode? ${mode}`))).catch(
  (e) => {
    process.stderr.write(`${e?.stack ?? e}\n`);
    process.exit(1);
  },
);
