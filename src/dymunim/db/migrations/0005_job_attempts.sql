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
