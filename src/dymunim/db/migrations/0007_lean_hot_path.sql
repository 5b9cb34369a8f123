-- The common path writes only what its row cannot say (issue 12). A job that is submitted, runs once
-- and finishes used to write a jobs row, three job_events rows, a job_attempts row, an archived
-- message and six index entries per status change. Now:
--   * job_events holds only the transitions the row cannot tell: retries, lost attempts, dead,
--     cancelled, manual retries. queued (created_at), the first running out of `queued` (started_at)
--     and a final succeeded/failed (finished_at) are read from the row itself (store/history.py).
--   * job_attempts holds the attempts that did not end the job (retrying, lost) and dead ones; the
--     attempt that ended a job with succeeded/failed is the row itself.
--   * Counters, rollups and live notifications follow jobs_state (one statement-level trigger per
--     INSERT and UPDATE, over the statement's transition tables), so every writer is counted,
--     whatever it records in job_events.
--   * Messages of finished jobs are deleted, not archived: the jobs table is the record.

-- The status index took a new entry at every status change (three per job). Jobs in the statuses a
-- job passes on its way through (queued, running, succeeded) are found through pgmq's queue table
-- (live ones) or the primary key (finished ones); the rarer statuses keep an index of their own.
DROP INDEX jobs_state_status_idx;
CREATE INDEX jobs_state_settled_idx ON jobs_state (status, job_id DESC)
    WHERE status IN ('failed', 'dead', 'retrying', 'cancelled');

DROP TRIGGER job_events_notify ON job_events;
DROP TRIGGER job_events_rollup ON job_events;
DROP FUNCTION dymunim_notify_job_events();
DROP FUNCTION dymunim_rollup_events();

-- Live events are not stored: the API keeps a window of recent ones for clients that resume
-- (Last-Event-ID). Both triggers tell live clients in the same transaction, delivered at commit and never
-- for a rollback: one NOTIFY per 80 transitions (under Postgres' 8,000-byte payload limit) holding an
-- array per field and the id of its first event, `{"first_id", "job_id": [...], "status", "from",
-- "attempt", "at"}`; event k's id is first_id + k. A JSON object per transition cost 2.4 us of database
-- time each, three per job; the arrays cost 0.4 us. The API expands them (notify/hub.py).
CREATE SEQUENCE dymunim_live_event_seq;
CREATE FUNCTION dymunim_jobs_inserted() RETURNS trigger AS $$
DECLARE
    my_shard smallint := (pg_backend_pid() % 16)::smallint;
    sent bigint;
BEGIN
    WITH counted AS (
        INSERT INTO job_status_counts (status, shard, n)
        SELECT status, my_shard, count(*) FROM new_jobs GROUP BY status
        ON CONFLICT (status, shard) DO UPDATE SET n = job_status_counts.n + EXCLUDED.n
    ),
    numbered AS (
        SELECT job_id, status, attempts, created_at, row_number() OVER (ORDER BY job_id) AS ord FROM new_jobs
    )
    SELECT count(pg_notify('dymunim_jobs', chunk)) INTO sent FROM (
        SELECT json_build_object(
                   'first_id', nextval('dymunim_live_event_seq') * 1000, 'job_id', array_agg(job_id ORDER BY ord),
                   'status', array_agg(status ORDER BY ord), 'from', array_agg(NULL::text ORDER BY ord),
                   'attempt', array_agg(attempts ORDER BY ord), 'at', array_agg(created_at ORDER BY ord))::text AS chunk
        FROM numbered GROUP BY (ord - 1) / 80
    ) chunks;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_state_inserted AFTER INSERT ON jobs_state
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION dymunim_jobs_inserted();

-- A change is a new status or a new attempt (a lost attempt's job goes running -> running). Rollups
-- as before 0007: outcomes of ended attempts, execution and queue-wait latency, failures per worker.
-- No nested loops (the function's own setting): PL/pgSQL keeps the plan made for the first statement's
-- row count, often one job, and a nested loop over two transition tables of 500 rows each is 250,000
-- visits. Replanning every call (EXECUTE) cost 1-2 ms per statement, most of an idle job's latency.
CREATE FUNCTION dymunim_jobs_changed() RETURNS trigger AS $$
DECLARE
    my_shard smallint := (pg_backend_pid() % 16)::smallint;
    sent bigint;
BEGIN
    WITH ch AS MATERIALIZED (
        SELECT n.job_id, o.status AS from_status, n.status AS to_status, n.attempts AS attempt, n.updated_at AS at,
               date_trunc('minute', n.updated_at) AS minute, COALESCE(n.cold_start, false) AS cold, n.duration_ms,
               CASE WHEN o.status = 'queued' AND n.status = 'running'
                    THEN extract(epoch FROM n.started_at - GREATEST(n.created_at, n.run_at)) * 1000 END AS wait_ms,
               COALESCE(n.worker_id, n.cache_id, 'code:' || left(n.code_hash, 12)) AS failing,
               row_number() OVER (ORDER BY n.job_id) AS ord
        FROM new_jobs n JOIN old_jobs o USING (job_id)
        WHERE n.status IS DISTINCT FROM o.status OR n.attempts IS DISTINCT FROM o.attempts
    ),
    counted AS (
        INSERT INTO job_status_counts (status, shard, n)
        SELECT status, my_shard, sum(d) FROM (
            SELECT to_status AS status, 1 AS d FROM ch
            UNION ALL
            SELECT from_status, -1 FROM ch
        ) t GROUP BY status HAVING sum(d) <> 0
        ON CONFLICT (status, shard) DO UPDATE SET n = job_status_counts.n + EXCLUDED.n
    ),
    outcomes AS (
        INSERT INTO job_minute_outcomes (minute, status, cold, shard, n)
        SELECT minute, to_status, cold, my_shard, count(*) FROM ch
        WHERE to_status IN ('succeeded', 'failed', 'dead', 'retrying')
        GROUP BY 1, 2, 3
        ON CONFLICT (minute, status, cold, shard) DO UPDATE SET n = job_minute_outcomes.n + EXCLUDED.n
    ),
    latency AS (
        INSERT INTO job_minute_latency (minute, kind, bucket, shard, n)
        SELECT minute, kind, bucket, my_shard, count(*) FROM (
            SELECT minute, CASE WHEN cold THEN 'exec_cold' ELSE 'exec_warm' END AS kind,
                   dymunim_latency_bucket(duration_ms) AS bucket
            FROM ch WHERE to_status IN ('succeeded', 'failed') AND duration_ms IS NOT NULL
            UNION ALL
            -- Queue wait counts from when the job may run (run_at, kept by the claim), not from submit.
            SELECT minute, 'wait', dymunim_latency_bucket(wait_ms) FROM ch WHERE wait_ms IS NOT NULL
        ) t GROUP BY 1, 2, 3
        ON CONFLICT (minute, kind, bucket, shard) DO UPDATE SET n = job_minute_latency.n + EXCLUDED.n
    ),
    failures AS (
        INSERT INTO job_minute_failures (minute, cache_id, shard, n)
        SELECT minute, failing, my_shard, count(*) FROM ch WHERE to_status IN ('failed', 'dead')
        GROUP BY 1, 2
        ON CONFLICT (minute, cache_id, shard) DO UPDATE SET n = job_minute_failures.n + EXCLUDED.n
    )
    SELECT count(pg_notify('dymunim_jobs', chunk)) INTO sent FROM (
        SELECT json_build_object(
                   'first_id', nextval('dymunim_live_event_seq') * 1000, 'job_id', array_agg(job_id ORDER BY ord),
                   'status', array_agg(to_status ORDER BY ord), 'from', array_agg(from_status ORDER BY ord),
                   'attempt', array_agg(attempt ORDER BY ord), 'at', array_agg(at ORDER BY ord))::text AS chunk
        FROM ch GROUP BY (ord - 1) / 80
    ) chunks;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET enable_nestloop = off;

CREATE TRIGGER jobs_state_changed AFTER UPDATE ON jobs_state
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION dymunim_jobs_changed();

-- Dispatchers are woken by one NOTIFY per statement that puts messages on `jobs`, from any producer
-- (pgmq.send too). pgmq's own trigger ran per row and updated a throttle row for each message.
SELECT pgmq.disable_notify_insert('jobs');

CREATE FUNCTION dymunim_wake_dispatchers() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('pgmq.q_jobs.INSERT', NULL);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_queue_wake AFTER INSERT ON pgmq.q_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION dymunim_wake_dispatchers();
