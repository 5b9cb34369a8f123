-- Durable workflows inside the sandbox (issue 15): a job whose code exports `run(event, step)` runs
-- as a sequence of executor calls. Each call replays the run from the top with the steps recorded so
-- far and stops at the first new one; the recorder stores that step and puts a new message on the
-- queue in the same transaction (due now, at a sleep's end, or at a wait's timeout). A completed step
-- is never run again. Between calls a run holds no dispatcher slot and no isolate: `sleeping` and
-- `waiting` runs are only a row and a hidden message.

ALTER TABLE jobs_state DROP CONSTRAINT jobs_state_status_check;
ALTER TABLE jobs_state ADD CONSTRAINT jobs_state_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'dead', 'cancelled',
                      'sleeping', 'waiting'));
ALTER TABLE job_events DROP CONSTRAINT job_events_to_status_check;
ALTER TABLE job_events ADD CONSTRAINT job_events_to_status_check
    CHECK (to_status IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'dead', 'cancelled',
                         'sleeping', 'waiting'));
ALTER TABLE job_events DROP CONSTRAINT job_events_from_status_check;
ALTER TABLE job_events ADD CONSTRAINT job_events_from_status_check
    CHECK (from_status IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'dead', 'cancelled',
                           'sleeping', 'waiting'));

-- How many steps a run has recorded; NULL for every job that is not a workflow. The claim returns it,
-- so only a workflow's call pays for reading its steps (nullable, no default: adding it rewrites nothing).
ALTER TABLE jobs_state ADD COLUMN steps integer;

-- One row per step name of a run: its latest state. `seq` is the order the run first reached it.
CREATE TABLE job_steps (
    job_id      bigint NOT NULL REFERENCES jobs_state (job_id) ON DELETE CASCADE,
    name        text NOT NULL,
    seq         integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('do', 'sleep', 'wait')),
    status      text NOT NULL
        CHECK (status IN ('completed', 'failed', 'retrying', 'sleeping', 'waiting', 'timed_out')),
    result      jsonb,                 -- do: what the callback returned; wait: the event it received
    error       jsonb,                 -- {name, message, stack}: the last failure
    attempts    integer NOT NULL DEFAULT 0,  -- do: every run of the callback, over all of the job's attempts
    tries       integer NOT NULL DEFAULT 0,  -- do: runs since the step last started over (its retry budget)
    config      jsonb,                 -- do: {retries: {limit, delay_ms, backoff}, timeout_ms}
    until       timestamptz,           -- sleep: when it ends; wait: when it times out; retrying: next try
    event_type  text,                  -- wait: the event type it waits for
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    duration_ms double precision,      -- do: the callback's last run
    logs        jsonb,                 -- what the call that last ran it logged
    PRIMARY KEY (job_id, name)
);

-- Events sent to a run (POST /api/jobs/{id}/events). A waiting run takes the oldest one of its type
-- not yet taken; one sent before the run waits is kept until it does.
CREATE TABLE job_inbox (
    inbox_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES jobs_state (job_id) ON DELETE CASCADE,
    type        text NOT NULL,
    payload     jsonb NOT NULL DEFAULT 'null',
    received_at timestamptz NOT NULL DEFAULT now(),
    taken_by    text                   -- the waitForEvent step that received it
);
CREATE INDEX job_inbox_open_idx ON job_inbox (job_id, type, inbox_id) WHERE taken_by IS NULL;
