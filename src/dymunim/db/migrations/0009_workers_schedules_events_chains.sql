-- Work on a clock and work that follows work (issue 14): saved workers with immutable versions,
-- schedules, published events with subscriptions, and jobs that start jobs. Each fire, publish and child
-- is rows plus a pgmq message written in the transaction that causes it (the outbox is the queue), and
-- a uniqueness makes a repeat harmless: (schedule, fire time), an event's idempotency key, and each
-- subscriber's or child's idempotency key derived from the event or the parent.

-- A saved worker's code never changes under a job: saving new code adds a version, and a job records
-- the version it ran (its code_hash is what a retry or replay runs again).
CREATE TABLE worker_versions (
    worker_id  text NOT NULL REFERENCES workers (worker_id) ON DELETE CASCADE,
    version    integer NOT NULL CHECK (version >= 1),
    code_hash  text NOT NULL REFERENCES job_code (code_hash),
    cache_id   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (worker_id, version)
);
ALTER TABLE workers ADD COLUMN version integer NOT NULL DEFAULT 1;
INSERT INTO worker_versions (worker_id, version, code_hash, cache_id, created_at)
SELECT worker_id, 1, code_hash, cache_id, created_at FROM workers;

-- Where a job came from. Nullable without a default: adding them rewrites nothing, and the partial
-- indexes below cost the hot path nothing for jobs that have none.
ALTER TABLE jobs_state
    ADD COLUMN worker_version integer,
    ADD COLUMN schedule_id    text,
    ADD COLUMN event_id       bigint,
    ADD COLUMN parent_job_id  bigint;
CREATE INDEX jobs_state_schedule_idx ON jobs_state (schedule_id, job_id DESC) WHERE schedule_id IS NOT NULL;
CREATE INDEX jobs_state_event_idx ON jobs_state (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX jobs_state_parent_idx ON jobs_state (parent_job_id) WHERE parent_job_id IS NOT NULL;

CREATE TABLE schedules (
    schedule_id    text PRIMARY KEY DEFAULT ('s_' || substr(md5(random()::text || clock_timestamp()::text), 1, 12)),
    name           text NOT NULL UNIQUE,
    cron           text NOT NULL,
    timezone       text NOT NULL DEFAULT 'UTC',
    -- What a fire runs: a saved worker's current version, or code of its own.
    worker_id      text REFERENCES workers (worker_id) ON DELETE RESTRICT,
    code_hash      text REFERENCES job_code (code_hash),
    language       text NOT NULL DEFAULT 'javascript',
    cache_id       text,
    payload        jsonb NOT NULL DEFAULT 'null',
    max_attempts   integer CHECK (max_attempts BETWEEN 1 AND 100),
    timeout_ms     integer CHECK (timeout_ms > 0),
    retry_on_error boolean NOT NULL DEFAULT false,
    misfire        text NOT NULL DEFAULT 'skip' CHECK (misfire IN ('skip', 'catch_up')),
    catch_up_limit integer NOT NULL DEFAULT 10 CHECK (catch_up_limit BETWEEN 1 AND 1000),
    paused         boolean NOT NULL DEFAULT false,
    next_fire_at   timestamptz NOT NULL,     -- the next tick not yet fired
    last_fire_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((worker_id IS NULL) <> (code_hash IS NULL))
);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE NOT paused;

-- One row per fire: unique on (schedule, tick), written with the job and its message, so a tick fires
-- once however many dispatchers look at it.
CREATE TABLE schedule_fires (
    schedule_id text NOT NULL REFERENCES schedules (schedule_id) ON DELETE CASCADE,
    fire_time   timestamptz NOT NULL,
    job_id      bigint,
    fired_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (schedule_id, fire_time)
);

CREATE TABLE published_events (
    event_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL,
    data            jsonb NOT NULL DEFAULT 'null',
    idempotency_key text,
    external_id     text,                   -- the producer's own id (the dispatch contract's `id`)
    trace_id        text,
    run_at          timestamptz,            -- delayed delivery
    source_job_id   bigint,                 -- published by job code (ctx.publish)
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX published_events_idempotency_key ON published_events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX published_events_name_idx ON published_events (name, event_id DESC);

-- `pattern` is an event name, or a prefix ending in `*` (`order.*` matches `order.paid`).
CREATE TABLE subscriptions (
    subscription_id text PRIMARY KEY DEFAULT ('sub_' || substr(md5(random()::text || clock_timestamp()::text), 1, 12)),
    worker_id       text NOT NULL REFERENCES workers (worker_id) ON DELETE CASCADE,
    pattern         text NOT NULL CHECK (pattern <> ''),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (worker_id, pattern)
);
