-- Control plane: saved workers, live dispatchers, and rollups that keep /api/metrics fast at any size.

CREATE TABLE workers (
    worker_id  text PRIMARY KEY DEFAULT ('w_' || substr(md5(random()::text || clock_timestamp()::text), 1, 12)),
    name       text NOT NULL UNIQUE,
    code_hash  text NOT NULL REFERENCES job_code (code_hash),
    language   text NOT NULL DEFAULT 'javascript',
    cache_id   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jobs_state_worker_idx ON jobs_state (worker_id, job_id DESC) WHERE worker_id IS NOT NULL;
CREATE INDEX jobs_state_cache_idx ON jobs_state (cache_id, job_id DESC) WHERE cache_id IS NOT NULL;
CREATE INDEX jobs_state_trace_idx ON jobs_state (trace_id) WHERE trace_id IS NOT NULL;

-- Dispatchers say they are alive here (heartbeat); /health reports the ones seen recently.
CREATE TABLE dispatchers (
    dispatcher_id text PRIMARY KEY,
    hostname      text NOT NULL,
    pid           integer NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    in_flight     integer NOT NULL DEFAULT 0
);

-- Counts by status, sharded by backend so concurrent transactions never wait on one counter row.
CREATE TABLE job_status_counts (
    status text NOT NULL,
    shard  smallint NOT NULL,
    n      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (status, shard)
);

-- Per-minute outcomes and latency histograms of finished attempts (bucket upper bounds in
-- dymunim_latency_bucket). kind: 'exec_cold', 'exec_warm' (execution time), 'wait' (queue wait).
CREATE TABLE job_minute_outcomes (
    minute   timestamptz NOT NULL,
    status   text NOT NULL,
    cold     boolean NOT NULL DEFAULT false,
    shard    smallint NOT NULL,
    n        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, status, cold, shard)
);

CREATE TABLE job_minute_latency (
    minute timestamptz NOT NULL,
    kind   text NOT NULL,
    bucket smallint NOT NULL,
    shard  smallint NOT NULL,
    n      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, kind, bucket, shard)
);

CREATE TABLE job_minute_failures (
    minute   timestamptz NOT NULL,
    cache_id text NOT NULL,
    shard    smallint NOT NULL,
    n        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, cache_id, shard)
);

-- Latency buckets (ms): 1, 2, 5, 10, 20, 50, 100, 200, 500, 1 s, 2 s, 5 s, 10 s, 30 s, 60 s, more.
CREATE FUNCTION dymunim_latency_bucket(ms double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE AS $$
    SELECT width_bucket(COALESCE(ms, 0),
        ARRAY[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000]::double precision[])::smallint
$$;

CREATE FUNCTION dymunim_bucket_upper_ms(bucket smallint) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000,
                  120000]::double precision[])[bucket + 1]
$$;

-- Every transition is one job_events row, so one statement-level trigger keeps every rollup: it
-- runs once per statement (a whole batch), in the same transaction as the transitions it counts.
CREATE FUNCTION dymunim_rollup_events() RETURNS trigger AS $$
DECLARE
    my_shard smallint := (pg_backend_pid() % 16)::smallint;
BEGIN
    INSERT INTO job_status_counts (status, shard, n)
    SELECT status, my_shard, sum(d) FROM (
        SELECT to_status AS status, 1 AS d FROM new_events
        UNION ALL
        SELECT from_status, -1 FROM new_events WHERE from_status IS NOT NULL
    ) t GROUP BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = job_status_counts.n + EXCLUDED.n;

    INSERT INTO job_minute_outcomes (minute, status, cold, shard, n)
    SELECT date_trunc('minute', e.at), e.to_status, COALESCE(j.cold_start, false), my_shard, count(*)
    FROM new_events e JOIN jobs_state j USING (job_id)
    WHERE e.to_status IN ('succeeded', 'failed', 'dead', 'retrying')
    GROUP BY 1, 2, 3
    ON CONFLICT (minute, status, cold, shard) DO UPDATE SET n = job_minute_outcomes.n + EXCLUDED.n;

    INSERT INTO job_minute_latency (minute, kind, bucket, shard, n)
    SELECT minute, kind, bucket, my_shard, count(*) FROM (
        SELECT date_trunc('minute', e.at) AS minute,
               CASE WHEN j.cold_start THEN 'exec_cold' ELSE 'exec_warm' END AS kind,
               dymunim_latency_bucket(j.duration_ms) AS bucket
        FROM new_events e JOIN jobs_state j USING (job_id)
        WHERE e.to_status IN ('succeeded', 'failed') AND j.duration_ms IS NOT NULL
        UNION ALL
        -- Queue wait counts from when the job may run (run_at, kept by the claim), not from submit.
        SELECT date_trunc('minute', e.at), 'wait',
               dymunim_latency_bucket(extract(epoch FROM e.at - GREATEST(j.created_at, j.run_at)) * 1000)
        FROM new_events e JOIN jobs_state j USING (job_id)
        WHERE e.to_status = 'running' AND e.from_status = 'queued'
    ) t GROUP BY 1, 2, 3
    ON CONFLICT (minute, kind, bucket, shard) DO UPDATE SET n = job_minute_latency.n + EXCLUDED.n;

    INSERT INTO job_minute_failures (minute, cache_id, shard, n)
    SELECT date_trunc('minute', e.at), COALESCE(j.worker_id, j.cache_id, 'code:' || left(j.code_hash, 12)),
           my_shard, count(*)
    FROM new_events e JOIN jobs_state j USING (job_id)
    WHERE e.to_status IN ('failed', 'dead')
    GROUP BY 1, 2
    ON CONFLICT (minute, cache_id, shard) DO UPDATE SET n = job_minute_failures.n + EXCLUDED.n;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER job_events_rollup AFTER INSERT ON job_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION dymunim_rollup_events();

-- Jobs created before this migration: count them once.
INSERT INTO job_status_counts (status, shard, n)
SELECT status, 0, count(*) FROM jobs_state GROUP BY status;

-- One row per attempt that ended (or was lost), written in the same transaction as its outcome, so a
-- job's history survives retries: the job row keeps only the latest attempt's result and logs.
CREATE TABLE job_attempts (
    job_id      bigint NOT NULL REFERENCES jobs_state (job_id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'retrying', 'dead', 'lost')),
    started_at  timestamptz,
    finished_at timestamptz NOT NULL DEFAULT now(),
    duration_ms double precision,
    cold_start  boolean,
    error       jsonb,
    PRIMARY KEY (job_id, attempt)
);
