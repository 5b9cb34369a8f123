-- Named queries: `-- name: <name>`, a one-line description, then SQL with %(named)s parameters.
-- Only dymunim.store runs them (store/sql.py loads this file); Python passes parameters and never builds SQL.
-- In the order of a job's life: submit, claim, record, read, steer; then workers, queues, metrics, dispatchers.

-- name: insert_code
-- Store the code once per sha256; jobs join it.
INSERT INTO job_code (code_hash, code, language)
SELECT * FROM unnest(%(code_hashes)s::text[], %(codes)s::text[], %(languages)s::text[])
ON CONFLICT (code_hash) DO NOTHING;

-- name: find_idempotent
-- Jobs already created under these idempotency keys, with what each was submitted with.
SELECT idempotency_key, job_id, request_fingerprint FROM jobs_state WHERE idempotency_key = ANY(%(keys)s::text[]);

-- name: insert_jobs
-- Create jobs and their pgmq messages in one statement (the caller's transaction). Their `queued` event is
-- the row's created_at; the jobs_state trigger counts them and tells live clients.
-- All jobs of one call share %(run_at)s (NULL = now): one pgmq.send_batch carries every message,
-- ten times cheaper than a pgmq.send per job. msg_ids come from a sequence in insertion order, so
-- the n-th smallest msg_id belongs to the n-th job.
-- %(jobs)s is one JSON array of job objects: one parameter instead of eleven adapted arrays (psycopg's
-- array quoting was a third of the API's time per submitted job).
WITH input AS (
    SELECT t.*, e.ord
    FROM jsonb_array_elements(%(jobs)s::jsonb) WITH ORDINALITY AS e(job, ord),
         jsonb_to_record(e.job) AS t(payload jsonb, code_hash text, language text, worker_id text, cache_id text,
                                     max_attempts int, timeout_ms int, retry_on_error bool, idempotency_key text,
                                     trace_id text, request_fingerprint jsonb, worker_version int,
                                     schedule_id text, event_id bigint, parent_job_id bigint)
),
ids AS (
    SELECT s.*, nextval(pg_get_serial_sequence('jobs_state', 'job_id')) AS job_id
    FROM (SELECT * FROM input ORDER BY ord) s
),
sent AS (
    SELECT msg_id, row_number() OVER (ORDER BY msg_id) AS rn
    FROM pgmq.send_batch('jobs', ARRAY(SELECT jsonb_build_object('job_id', job_id) FROM ids ORDER BY ord),
                         NULL::jsonb[], COALESCE(%(run_at)s::timestamptz, clock_timestamp())) AS msg_id
),
msgs AS (
    SELECT ids.*, sent.msg_id FROM ids JOIN sent ON sent.rn = ids.ord
),
job AS (
    INSERT INTO jobs_state (job_id, msg_id, payload, status, code_hash, language, worker_id, cache_id,
                            max_attempts, timeout_ms, retry_on_error, idempotency_key, trace_id, run_at,
                            request_fingerprint, worker_version, schedule_id, event_id, parent_job_id)
    -- A JSON null payload arrives as SQL NULL: stored as JSON null again.
    SELECT job_id, msg_id, COALESCE(payload, 'null'), 'queued', code_hash, language, worker_id, cache_id,
           max_attempts, timeout_ms, retry_on_error, idempotency_key, trace_id, %(run_at)s::timestamptz,
           request_fingerprint, worker_version, schedule_id, event_id, parent_job_id
    FROM msgs
    -- Unique keys enter the index in one global order, so two batches sharing keys wait for each
    -- other at most once and never deadlock (each deadlock costs deadlock_timeout, 1 s, to detect).
    ORDER BY idempotency_key
    RETURNING job_id
)
-- One row holding every id, in input order (a row per job cost the API more than the insert did).
SELECT array_agg(m.job_id ORDER BY m.ord) AS job_ids FROM msgs m JOIN job USING (job_id);

-- name: claim
-- Claim up to qty visible messages and start their jobs' attempts, in one statement: the messages are
-- hidden for vt seconds as pgmq.read hides them (vt, read_ct, last_read_at; written here as a static
-- statement so Postgres plans it once per connection instead of pgmq.read's per-call dynamic SQL), and
-- their jobs go `running` with the next attempt number (the fencing token). A job still `running` lost
-- its previous attempt (its process died or hung past the visibility timeout): that attempt is
-- recorded as lost. Only a claim that is not the common queued -> running writes a job_events row.
-- Returns one row per message: `runnable` false for a message whose job needs no run (cancelled,
-- finished, gone), `poison` for one delivered more than max_deliveries times.
WITH msg AS (
    UPDATE pgmq.q_jobs m
    SET vt = clock_timestamp() + make_interval(secs => %(vt)s), read_ct = m.read_ct + 1,
        last_read_at = clock_timestamp()
    -- With a cursor (after: the highest msg_id this dispatcher has claimed): the messages above it,
    -- in msg_id order through the primary key. Everything below the cursor, where claimed and finished
    -- messages leave their dead row versions, is never visited (0008_claim_cursor.sql).
    -- Without one (the sweep): earliest due first through the vt index, from due_from (NULL: from
    -- the start), so a sweep reads the last seconds of the index, not every dead version of the pin.
    -- Only one of the two runs (the other's one-time filter is false). = ANY(ARRAY(...)): the update
    -- finds its rows by primary key; a join here is planned as a scan of the whole queue.
    WHERE m.msg_id = ANY(
        ARRAY(SELECT msg_id FROM pgmq.q_jobs
              WHERE %(after)s::bigint IS NOT NULL AND msg_id > %(after)s::bigint AND vt <= clock_timestamp()
              ORDER BY msg_id LIMIT %(qty)s FOR UPDATE SKIP LOCKED)
        -- now(), not clock_timestamp(): a bound the index scan stops at, instead of a filter that reads
        -- on through every message in flight (vt ahead) when fewer than qty are due.
        || ARRAY(SELECT msg_id FROM pgmq.q_jobs
                 WHERE %(after)s::bigint IS NULL AND vt >= COALESCE(%(due_from)s::timestamptz, '-infinity')
                   AND vt <= now()
                 ORDER BY vt LIMIT %(qty)s FOR UPDATE SKIP LOCKED))
    RETURNING m.msg_id, m.read_ct, (m.message->>'job_id')::bigint AS job_id
),
prev AS (
    SELECT j.job_id, j.status, j.attempts, j.started_at
    FROM jobs_state j
    WHERE j.job_id = ANY(ARRAY(SELECT job_id FROM msg))  -- by primary key, never a scan of the jobs
    FOR UPDATE
),
claimed AS (
    UPDATE jobs_state j
    SET status = 'running', attempts = j.attempts + 1, started_at = now(), updated_at = now(),
        msg_id = msg.msg_id, finished_at = NULL  -- run_at stays: queue wait is measured from it
    FROM msg, prev
    WHERE j.job_id = msg.job_id AND prev.job_id = j.job_id
      AND prev.status IN ('queued', 'retrying', 'running', 'sleeping', 'waiting')
    RETURNING j.job_id, j.attempts, j.code_hash, j.payload, j.cache_id, j.timeout_ms, j.trace_id,
              j.max_attempts, j.retry_on_error, j.created_at, j.steps, msg.msg_id, msg.read_ct,
              prev.status AS prev_status, prev.attempts AS prev_attempts, prev.started_at AS prev_started_at
),
lost AS (
    INSERT INTO job_attempts (job_id, attempt, outcome, started_at, error)
    SELECT job_id, prev_attempts, 'lost', prev_started_at,
           jsonb_build_object('name', 'LostAttempt', 'stack', NULL, 'message',
               'no result: the dispatcher or executor running it died or hung past the visibility timeout')
    FROM claimed WHERE prev_status = 'running'
    ON CONFLICT (job_id, attempt) DO NOTHING
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT c.job_id, c.prev_status, 'running', c.attempts,
           CASE WHEN c.prev_status = 'running' THEN jsonb_build_object(
               'lost_attempt', c.prev_attempts,
               'reason', 'attempt ' || c.prev_attempts || ' was lost: its message came back after the '
                         || 'visibility timeout without a result (dispatcher or executor died or hung)')
           END
    FROM claimed c WHERE c.prev_status <> 'queued'
)
-- Columns in the order of store.models.Claimed, after runnable and poison (read as tuples: cheaper).
SELECT c.job_id IS NOT NULL AS runnable, m.read_ct > %(max_deliveries)s AS poison, m.job_id, m.msg_id,
       c.attempts, jc.code, c.code_hash, c.payload, c.cache_id, c.timeout_ms, c.trace_id, c.max_attempts,
       c.retry_on_error, c.created_at, c.steps
FROM msg m LEFT JOIN claimed c USING (msg_id) LEFT JOIN job_code jc USING (code_hash);

-- name: claim_start
-- Before a claim: for the rest of this transaction, plans use indexes over scans and sorts (see
-- store/claims.py); the last msg_id handed out so far and the database's clock. A claim that takes less
-- than it asked for took every due message up to the first (so the cursor may move there: a message
-- still uncommitted below it names itself when it commits, 0008_claim_cursor.sql), and a sweep that
-- does took every message due by the second (the next sweep may start near there).
SELECT set_config('enable_seqscan', 'off', true) || set_config('enable_sort', 'off', true)
       || set_config('enable_bitmapscan', 'off', true) AS settings,
       pg_sequence_last_value('pgmq.q_jobs_msg_id_seq') AS queue_end, clock_timestamp() AS db_now;

-- name: delete_messages
-- Drop messages whose job needs no run (cancelled, finished, or gone): the jobs table is the record.
DELETE FROM pgmq.q_jobs WHERE msg_id = ANY(%(msg_ids)s::bigint[]);

-- name: record_final
-- Record results of the current attempts only and delete their messages: one transaction per group.
-- Returns the jobs recorded (the recorder starts the children of those that asked for some).
-- The row is the whole record of an attempt that ends its job: no job_events or job_attempts row.
-- %(outcomes)s is one JSON array (one parameter instead of nine adapted arrays: cheaper per job): each
-- item is the executor's checked Outcome with the job id, attempt and status it ends with.
WITH r AS (
    SELECT *
    FROM jsonb_to_recordset(%(outcomes)s::jsonb) AS t(
        job_id bigint, attempt int, status text, ok bool, result jsonb, error jsonb, logs jsonb,
        logs_truncated bool, duration_ms float8, cold bool)
),
done AS (
    UPDATE jobs_state j
    SET status = r.status, result = CASE WHEN r.ok THEN r.result END, error = CASE WHEN NOT r.ok THEN r.error END,
        execution_logs = COALESCE(r.logs, '[]'),
        logs_truncated = COALESCE(r.logs_truncated, false), duration_ms = r.duration_ms, cold_start = r.cold,
        finished_at = now(), updated_at = now()
    FROM r
    WHERE j.job_id = r.job_id AND j.attempts = r.attempt AND j.status = 'running'
      AND j.job_id = ANY(ARRAY(SELECT job_id FROM r))  -- by primary key, never a scan of the jobs
    RETURNING j.job_id, j.msg_id
),
gone AS (
    DELETE FROM pgmq.q_jobs m USING done WHERE m.msg_id = done.msg_id
)
SELECT job_id FROM done;

-- name: record_retry
-- A failed attempt that will run again: show `retrying` and when, and hide its message until then.
WITH r AS (
    SELECT *
    FROM jsonb_to_recordset(%(outcomes)s::jsonb) AS t(
        job_id bigint, attempt int, error jsonb, logs jsonb, run_at timestamptz, duration_ms float8)
),
done AS (
    UPDATE jobs_state j
    SET status = 'retrying', error = r.error, execution_logs = COALESCE(r.logs, '[]'), run_at = r.run_at,
        duration_ms = r.duration_ms, updated_at = now()
    FROM r
    WHERE j.job_id = r.job_id AND j.attempts = r.attempt AND j.status = 'running'
      AND j.job_id = ANY(ARRAY(SELECT job_id FROM r))  -- by primary key, never a scan of the jobs
    RETURNING j.job_id, j.msg_id, r.attempt, r.run_at, r.error, j.started_at, r.duration_ms, j.steps
),
-- A workflow run's next attempt runs its failed steps again, each with its retries anew.
again AS (
    UPDATE job_steps s SET status = 'retrying', tries = 0
    FROM done WHERE done.steps IS NOT NULL AND s.job_id = done.job_id AND s.status = 'failed'
),
att AS (
    INSERT INTO job_attempts (job_id, attempt, outcome, started_at, duration_ms, error)
    SELECT job_id, attempt, 'retrying', started_at, duration_ms, error FROM done
    ON CONFLICT (job_id, attempt) DO NOTHING
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT job_id, 'running', 'retrying', attempt,
           jsonb_build_object('run_at', run_at, 'error', error->>'message')
    FROM done
)
SELECT d.job_id, (SELECT count(*) FROM pgmq.set_vt('jobs', d.msg_id, d.run_at)) AS moved FROM done d;

-- name: record_dead
-- Out of attempts (or a poison message): `dead`, a copy to the dead-letter queue, the original deleted.
WITH r AS (
    SELECT *
    FROM jsonb_to_recordset(%(outcomes)s::jsonb) AS t(
        job_id bigint, attempt int, error jsonb, logs jsonb, duration_ms float8)
),
done AS (
    UPDATE jobs_state j
    SET status = 'dead', error = r.error, execution_logs = COALESCE(r.logs, j.execution_logs),
        duration_ms = COALESCE(r.duration_ms, j.duration_ms), finished_at = now(), updated_at = now()
    FROM r
    WHERE j.job_id = r.job_id AND j.attempts = r.attempt AND j.status = 'running'
      AND j.job_id = ANY(ARRAY(SELECT job_id FROM r))  -- by primary key, never a scan of the jobs
    RETURNING j.job_id, j.msg_id, r.attempt, r.error, j.started_at, r.duration_ms
),
att AS (
    INSERT INTO job_attempts (job_id, attempt, outcome, started_at, duration_ms, error)
    SELECT job_id, attempt, 'dead', started_at, duration_ms, error FROM done
    ON CONFLICT (job_id, attempt) DO NOTHING
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT job_id, 'running', 'dead', attempt, jsonb_build_object('error', error->>'message') FROM done
),
gone AS (
    DELETE FROM pgmq.q_jobs m USING done WHERE m.msg_id = done.msg_id
)
SELECT d.job_id,
       (SELECT pgmq.send('jobs_dlq', jsonb_build_object('job_id', d.job_id, 'error', d.error))) AS dlq_msg_id
FROM done d;

-- name: get_job
-- One job with its code.
SELECT j.job_id, j.job_type, j.status, j.payload, j.result, j.error, c.code, j.code_hash, j.language,
       j.worker_id, j.cache_id, j.execution_logs, j.logs_truncated, j.attempts, j.max_attempts, j.timeout_ms,
       j.retry_on_error, j.idempotency_key, j.trace_id, j.worker_version, j.schedule_id, j.event_id,
       j.parent_job_id, j.steps, j.msg_id, j.run_at, j.created_at, j.updated_at,
       j.started_at, j.finished_at, j.duration_ms, j.cold_start
FROM jobs_state j JOIN job_code c USING (code_hash) WHERE j.job_id = %(job_id)s;

-- name: job_events
-- A job's lifecycle, oldest first.
SELECT event_id, from_status, to_status, attempt, at, detail
FROM job_events WHERE job_id = %(job_id)s ORDER BY event_id;

-- name: list_jobs
-- Newest first with optional filters; keyset pagination on job_id (stable while new jobs arrive).
-- What a list shows: no code, payload or logs, and only the start of the result. Queued and running
-- jobs are listed by list_live_jobs.
SELECT j.job_id, j.status, j.error, left(j.result::text, 200) AS result_preview, j.code_hash, j.language,
       j.worker_id, j.cache_id, j.attempts, j.max_attempts, j.timeout_ms, j.retry_on_error, j.idempotency_key,
       j.trace_id, j.worker_version, j.schedule_id, j.event_id, j.parent_job_id, j.steps, j.run_at, j.created_at,
       j.updated_at, j.started_at, j.finished_at, j.duration_ms, j.cold_start
FROM jobs_state j
WHERE (%(status)s::text IS NULL OR j.status = %(status)s::text)
  AND (%(before)s::bigint IS NULL OR j.job_id < %(before)s::bigint)
  AND (%(cache_id)s::text IS NULL OR j.cache_id = %(cache_id)s::text)
  AND (%(worker_id)s::text IS NULL OR j.worker_id = %(worker_id)s::text)
  AND (%(trace_id)s::text IS NULL OR j.trace_id = %(trace_id)s::text)
  AND (%(schedule_id)s::text IS NULL OR j.schedule_id = %(schedule_id)s::text)
  AND (%(event_id)s::bigint IS NULL OR j.event_id = %(event_id)s::bigint)
  AND (%(parent_job_id)s::bigint IS NULL OR j.parent_job_id = %(parent_job_id)s::bigint)
  AND (%(created_after)s::timestamptz IS NULL OR j.created_at >= %(created_after)s::timestamptz)
  AND (%(created_before)s::timestamptz IS NULL OR j.created_at < %(created_before)s::timestamptz)
  -- q arrives with its LIKE wildcards and backslashes escaped by a backslash: the text matches literally.
  AND (%(q)s::text IS NULL OR (j.error->>'message') ILIKE '%%' || %(q)s::text || '%%' ESCAPE '\'
       OR (j.error->>'name') ILIKE '%%' || %(q)s::text || '%%' ESCAPE '\')
ORDER BY j.job_id DESC
LIMIT %(limit)s;

-- name: list_live_jobs
-- list_jobs for queued or running jobs. They have no status index (it cost an entry at every status
-- change): they are the jobs with a message on the queue, and the queue holds only live jobs.
SELECT j.job_id, j.status, j.error, left(j.result::text, 200) AS result_preview, j.code_hash, j.language,
       j.worker_id, j.cache_id, j.attempts, j.max_attempts, j.timeout_ms, j.retry_on_error, j.idempotency_key,
       j.trace_id, j.worker_version, j.schedule_id, j.event_id, j.parent_job_id, j.steps, j.run_at, j.created_at,
       j.updated_at, j.started_at, j.finished_at, j.duration_ms, j.cold_start
FROM jobs_state j
WHERE j.job_id = ANY(ARRAY(SELECT (m.message->>'job_id')::bigint FROM pgmq.q_jobs m))
  AND (%(status)s::text IS NULL OR j.status = %(status)s::text)
  AND (%(before)s::bigint IS NULL OR j.job_id < %(before)s::bigint)
  AND (%(cache_id)s::text IS NULL OR j.cache_id = %(cache_id)s::text)
  AND (%(worker_id)s::text IS NULL OR j.worker_id = %(worker_id)s::text)
  AND (%(trace_id)s::text IS NULL OR j.trace_id = %(trace_id)s::text)
  AND (%(schedule_id)s::text IS NULL OR j.schedule_id = %(schedule_id)s::text)
  AND (%(event_id)s::bigint IS NULL OR j.event_id = %(event_id)s::bigint)
  AND (%(parent_job_id)s::bigint IS NULL OR j.parent_job_id = %(parent_job_id)s::bigint)
  AND (%(created_after)s::timestamptz IS NULL OR j.created_at >= %(created_after)s::timestamptz)
  AND (%(created_before)s::timestamptz IS NULL OR j.created_at < %(created_before)s::timestamptz)
  -- q arrives with its LIKE wildcards and backslashes escaped by a backslash: the text matches literally.
  AND (%(q)s::text IS NULL OR (j.error->>'message') ILIKE '%%' || %(q)s::text || '%%' ESCAPE '\'
       OR (j.error->>'name') ILIKE '%%' || %(q)s::text || '%%' ESCAPE '\')
ORDER BY j.job_id DESC
LIMIT %(limit)s;

-- name: job_statuses
-- Current status of some jobs (waiters re-check after a notification).
SELECT job_id, status FROM jobs_state WHERE job_id = ANY(%(job_ids)s::bigint[]);

-- name: ping
-- Liveness of the database.
SELECT 1;

-- name: extend_visibility
-- Heartbeat: keep in-flight messages hidden for vt more seconds while their jobs run.
SELECT count(*) FROM pgmq.set_vt('jobs', %(msg_ids)s::bigint[], %(vt)s::integer);

-- name: release_messages
-- Graceful shutdown: hand unfinished messages back at once so another dispatcher takes them.
SELECT count(*) FROM pgmq.set_vt('jobs', %(msg_ids)s::bigint[], 0);

-- name: retry_job
-- Manual retry of a failed or dead job: back to `queued` with a fresh attempt budget and a new
-- message, its dead letter (if any) archived, in one statement. status_before tells a 409 from a 404.
WITH j AS (
    SELECT job_id, status, attempts, started_at, finished_at, duration_ms, cold_start, error
    FROM jobs_state WHERE job_id = %(job_id)s FOR UPDATE
),
-- A failed job's last attempt lived only in its row (0007): it goes to the history before the row resets.
kept_attempt AS (
    INSERT INTO job_attempts (job_id, attempt, outcome, started_at, finished_at, duration_ms, cold_start, error)
    SELECT job_id, attempts, 'failed', started_at, finished_at, duration_ms, cold_start, error
    FROM j WHERE status = 'failed' AND attempts > 0
    ON CONFLICT (job_id, attempt) DO NOTHING
),
kept_event AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, at)
    SELECT job_id, 'running', 'failed', attempts, finished_at FROM j
    WHERE status = 'failed' AND attempts > 0 AND finished_at IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.job_id AND e.to_status = 'failed'
                                                   AND e.attempt = j.attempts)
),
upd AS (
    UPDATE jobs_state s
    SET status = 'queued', max_attempts = j.attempts + %(budget)s, result = NULL, error = NULL,
        run_at = NULL, finished_at = NULL, updated_at = now(),
        msg_id = (SELECT pgmq.send('jobs', jsonb_build_object('job_id', j.job_id)))
    FROM j
    WHERE s.job_id = j.job_id AND j.status IN ('failed', 'dead')
    RETURNING s.job_id, j.status AS was, j.attempts
),
again AS (
    UPDATE job_steps s SET status = 'retrying', tries = 0 FROM upd WHERE s.job_id = upd.job_id AND s.status = 'failed'
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT job_id, was, 'queued', attempts, jsonb_build_object('reason', %(reason)s::text) FROM upd
),
dlq AS (
    SELECT count(*) AS n
    FROM pgmq.archive('jobs_dlq', ARRAY(
        SELECT d.msg_id FROM pgmq.q_jobs_dlq d, upd WHERE (d.message->>'job_id')::bigint = upd.job_id))
)
SELECT (SELECT status FROM j) AS status_before, (SELECT job_id FROM upd) AS retried,
       (SELECT n FROM dlq) AS dead_letters_archived;

-- name: cancel_job
-- Cancel a job that has not started, waits to retry, or is a workflow run sleeping or waiting between
-- calls: it never runs again; its message is deleted.
WITH j AS (
    SELECT job_id, status, msg_id, attempts FROM jobs_state WHERE job_id = %(job_id)s FOR UPDATE
),
upd AS (
    UPDATE jobs_state s
    SET status = 'cancelled', finished_at = now(), updated_at = now(), run_at = NULL
    FROM j
    WHERE s.job_id = j.job_id AND j.status IN ('queued', 'retrying', 'sleeping', 'waiting')
    RETURNING s.job_id, j.status AS was, j.msg_id, j.attempts
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT job_id, was, 'cancelled', attempts, jsonb_build_object('reason', 'cancelled by request') FROM upd
),
gone AS (
    DELETE FROM pgmq.q_jobs m USING upd WHERE m.msg_id = upd.msg_id
)
SELECT (SELECT status FROM j) AS status_before, (SELECT job_id FROM upd) AS cancelled;

-- name: dead_letter_job
-- The job a dead-letter message belongs to.
SELECT (message->>'job_id')::bigint AS job_id FROM pgmq.q_jobs_dlq WHERE msg_id = %(msg_id)s;

-- name: dead_letter_jobs
-- Every job with a message in the dead-letter queue (oldest first), for "replay all".
SELECT DISTINCT (message->>'job_id')::bigint AS job_id FROM pgmq.q_jobs_dlq ORDER BY 1;

-- name: queue_metrics
-- Every pgmq queue with its depth and ages.
SELECT queue_name, queue_length, newest_msg_age_sec, oldest_msg_age_sec, total_messages, scrape_time
FROM pgmq.metrics_all() ORDER BY queue_name;

-- name: queue_exists
-- Is this a pgmq queue? (Checked before its table name is used as an identifier.)
SELECT 1 FROM pgmq.meta WHERE queue_name = %(name)s;

-- name: peek_messages
-- Messages of one queue without claiming them; {table} is filled with a quoted identifier of a known queue.
SELECT msg_id, read_ct, enqueued_at, vt, message FROM pgmq.{table} ORDER BY msg_id LIMIT %(limit)s;

-- name: purge_dead_letters
-- Empty the dead-letter queue (the jobs stay `dead` with their error; only the messages go).
SELECT pgmq.purge_queue('jobs_dlq') AS purged;

-- name: status_counts
-- Jobs by status from the sharded counters (constant time at any table size).
SELECT status, sum(n)::bigint AS n FROM job_status_counts GROUP BY status;

-- name: minute_outcomes
-- Outcomes per minute over the range.
SELECT minute, status, cold, sum(n)::bigint AS n FROM job_minute_outcomes
WHERE minute >= date_trunc('minute', now()) - make_interval(mins => %(minutes)s)
GROUP BY 1, 2, 3 ORDER BY 1;

-- name: latency_histogram
-- Latency histogram buckets over the range, by kind (exec_cold, exec_warm, wait), with their edges.
SELECT kind, bucket, dymunim_bucket_lower_ms(bucket) AS lower_ms, dymunim_bucket_upper_ms(bucket) AS upper_ms,
       sum(n)::bigint AS n FROM job_minute_latency
WHERE minute >= date_trunc('minute', now()) - make_interval(mins => %(minutes)s)
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: top_failing
-- Workers (saved worker, cache id, or code hash) with the most failures over the range.
SELECT cache_id, sum(n)::bigint AS failures FROM job_minute_failures
WHERE minute >= date_trunc('minute', now()) - make_interval(mins => %(minutes)s)
GROUP BY 1 ORDER BY 2 DESC LIMIT 10;

-- name: latency_all_time
-- Every latency bucket ever recorded (Prometheus histograms are cumulative).
SELECT kind, bucket, dymunim_bucket_lower_ms(bucket) AS lower_ms, dymunim_bucket_upper_ms(bucket) AS upper_ms,
       sum(n)::bigint AS n
FROM job_minute_latency GROUP BY 1, 2 ORDER BY 1, 2;

-- name: outcomes_all_time
-- Every finished attempt ever, by outcome and cold/warm.
SELECT status, cold, sum(n)::bigint AS n FROM job_minute_outcomes GROUP BY 1, 2;

-- name: dispatcher_seen
-- A dispatcher's heartbeat.
INSERT INTO dispatchers (dispatcher_id, hostname, pid, in_flight, overdue)
VALUES (%(id)s, %(hostname)s, %(pid)s, %(in_flight)s, %(overdue)s)
ON CONFLICT (dispatcher_id) DO UPDATE SET last_seen = now(), in_flight = EXCLUDED.in_flight,
    overdue = EXCLUDED.overdue;

-- name: dispatcher_gone
-- A dispatcher that stops cleanly says so.
DELETE FROM dispatchers WHERE dispatcher_id = %(id)s;

-- name: dispatchers_alive
-- Dispatchers seen within the last `seconds`.
SELECT dispatcher_id, hostname, pid, started_at, last_seen, in_flight, overdue FROM dispatchers
WHERE last_seen > now() - make_interval(secs => %(seconds)s) ORDER BY started_at;

-- name: create_worker
-- Save code under a name, as the worker and its version 1.
WITH w AS (
    INSERT INTO workers (name, code_hash, language, cache_id)
    VALUES (%(name)s, %(code_hash)s, %(language)s, %(cache_id)s)
    RETURNING worker_id, code_hash, cache_id
)
INSERT INTO worker_versions (worker_id, version, code_hash, cache_id)
SELECT worker_id, 1, code_hash, cache_id FROM w
RETURNING worker_id;

-- name: lock_worker
-- The worker's current version, locked: concurrent saves of new code number their versions one by one.
SELECT worker_id, version, code_hash, cache_id FROM workers WHERE worker_id = %(worker_id)s FOR UPDATE;

-- name: add_worker_version
-- New code for a worker: an immutable version, which becomes the one new jobs run.
WITH w AS (
    UPDATE workers SET version = version + 1, code_hash = %(code_hash)s, language = %(language)s,
                       cache_id = %(cache_id)s, updated_at = now()
    WHERE worker_id = %(worker_id)s
    RETURNING worker_id, version, code_hash, cache_id
)
INSERT INTO worker_versions (worker_id, version, code_hash, cache_id)
SELECT worker_id, version, code_hash, cache_id FROM w
RETURNING version;

-- name: get_worker
-- One saved worker with its current code.
SELECT w.*, c.code FROM workers w JOIN job_code c USING (code_hash) WHERE w.worker_id = %(worker_id)s;

-- name: worker_versions
-- A worker's versions, newest first (no code: worker_version has it).
SELECT version, code_hash, cache_id, created_at FROM worker_versions
WHERE worker_id = %(worker_id)s ORDER BY version DESC;

-- name: worker_version
-- One version of a worker with its code.
SELECT v.version, v.code_hash, v.cache_id, v.created_at, c.code
FROM worker_versions v JOIN job_code c USING (code_hash)
WHERE v.worker_id = %(worker_id)s AND v.version = %(version)s;

-- name: list_workers
-- Saved workers, most recently changed first, optionally by a piece of their name (matched literally), each
-- with its last run and how its newest 100 finished runs went (through the worker's own index).
SELECT w.worker_id, w.name, w.version, w.language, w.cache_id, w.code_hash, w.created_at, w.updated_at,
       r.last_run_at, COALESCE(r.finished, 0) AS recent_finished, COALESCE(r.failed, 0) AS recent_failed
FROM workers w
LEFT JOIN LATERAL (
    SELECT max(j.created_at) AS last_run_at,
           count(*) FILTER (WHERE j.status IN ('succeeded', 'failed', 'dead')) AS finished,
           count(*) FILTER (WHERE j.status IN ('failed', 'dead')) AS failed
    FROM (SELECT status, created_at FROM jobs_state
          WHERE worker_id = w.worker_id ORDER BY job_id DESC LIMIT 100) j
) r ON true
WHERE (%(q)s::text IS NULL OR w.name ILIKE '%%' || %(q)s::text || '%%' ESCAPE '\')
ORDER BY w.updated_at DESC, w.worker_id
LIMIT %(limit)s;

-- name: job_attempts
-- A job's finished (or lost) attempts, oldest first.
SELECT attempt, outcome, started_at, finished_at, duration_ms, cold_start, error
FROM job_attempts WHERE job_id = %(job_id)s ORDER BY attempt;

-- name: create_schedule
-- A schedule; its code (if it has its own) is stored in the same transaction.
INSERT INTO schedules (name, cron, timezone, worker_id, code_hash, language, cache_id, payload, max_attempts,
                       timeout_ms, retry_on_error, misfire, catch_up_limit, paused, next_fire_at)
VALUES (%(name)s, %(cron)s, %(timezone)s, %(worker_id)s, %(code_hash)s, %(language)s, %(cache_id)s,
        %(payload)s::jsonb, %(max_attempts)s, %(timeout_ms)s, %(retry_on_error)s, %(misfire)s, %(catch_up_limit)s,
        %(paused)s, %(next_fire_at)s)
RETURNING schedule_id;

-- name: update_schedule
-- Every field of a schedule at once (PATCH merges in Python, validated as a whole).
UPDATE schedules
SET name = %(name)s, cron = %(cron)s, timezone = %(timezone)s, worker_id = %(worker_id)s, code_hash = %(code_hash)s,
    language = %(language)s, cache_id = %(cache_id)s, payload = %(payload)s::jsonb, max_attempts = %(max_attempts)s,
    timeout_ms = %(timeout_ms)s, retry_on_error = %(retry_on_error)s, misfire = %(misfire)s,
    catch_up_limit = %(catch_up_limit)s, paused = %(paused)s, next_fire_at = %(next_fire_at)s, updated_at = now()
WHERE schedule_id = %(schedule_id)s
RETURNING schedule_id;

-- name: get_schedule
-- One schedule with its own code (if any).
SELECT s.*, c.code FROM schedules s LEFT JOIN job_code c ON c.code_hash = s.code_hash
WHERE s.schedule_id = %(schedule_id)s;

-- name: lock_schedule
-- A schedule's row, locked for a change: a fire in progress finishes first, none starts meanwhile.
SELECT s.*, c.code FROM schedules s LEFT JOIN job_code c ON c.code_hash = s.code_hash
WHERE s.schedule_id = %(schedule_id)s FOR UPDATE OF s;

-- name: list_schedules
-- Schedules by name, optionally those of one worker.
SELECT s.* FROM schedules s
WHERE (%(worker_id)s::text IS NULL OR s.worker_id = %(worker_id)s::text)
ORDER BY s.name LIMIT %(limit)s;

-- name: delete_schedule
-- Remove a schedule and its fire rows; its jobs stay (they keep its id).
DELETE FROM schedules WHERE schedule_id = %(schedule_id)s RETURNING schedule_id;

-- name: due_schedules
-- Schedules whose next tick has come, locked (SKIP LOCKED: another dispatcher firing one is left to it),
-- each with the code a fire runs: its own, or its worker's current version. db_now is the clock every
-- fire is judged by (one clock, whatever the dispatchers' own say).
SELECT s.*, COALESCE(c.code, wc.code) AS code, w.version AS worker_version, w.code_hash AS worker_code_hash,
       w.language AS worker_language, w.cache_id AS worker_cache_id, clock_timestamp() AS db_now
FROM schedules s
LEFT JOIN job_code c ON c.code_hash = s.code_hash
LEFT JOIN workers w ON w.worker_id = s.worker_id
LEFT JOIN job_code wc ON wc.code_hash = w.code_hash
WHERE NOT s.paused AND s.next_fire_at <= clock_timestamp()
ORDER BY s.next_fire_at
LIMIT %(limit)s
FOR UPDATE OF s SKIP LOCKED;

-- name: insert_fires
-- Claim ticks of a schedule: a tick already fired (by any dispatcher) is not returned again.
INSERT INTO schedule_fires (schedule_id, fire_time)
SELECT %(schedule_id)s, t FROM unnest(%(fire_times)s::timestamptz[]) AS t
ON CONFLICT (schedule_id, fire_time) DO NOTHING
RETURNING fire_time;

-- name: fire_jobs
-- The job each fire started.
UPDATE schedule_fires f SET job_id = x.job_id
FROM unnest(%(fire_times)s::timestamptz[], %(job_ids)s::bigint[]) AS x(fire_time, job_id)
WHERE f.schedule_id = %(schedule_id)s AND f.fire_time = x.fire_time;

-- name: schedule_fired
-- Move a schedule on to its next tick.
UPDATE schedules SET next_fire_at = %(next_fire_at)s,
                     last_fire_at = GREATEST(last_fire_at, %(last_fire_at)s::timestamptz)
WHERE schedule_id = %(schedule_id)s;

-- name: next_schedule_in
-- Seconds until the earliest tick of any running schedule (by the database's clock); NULL: none.
SELECT extract(epoch FROM min(next_fire_at) - clock_timestamp()) AS seconds FROM schedules WHERE NOT paused;

-- name: schedule_fires
-- A schedule's newest fires with their jobs' statuses.
SELECT f.fire_time, f.fired_at, f.job_id, j.status
FROM schedule_fires f LEFT JOIN jobs_state j ON j.job_id = f.job_id
WHERE f.schedule_id = %(schedule_id)s ORDER BY f.fire_time DESC LIMIT %(limit)s;

-- name: subscribe
-- Subscribe a worker to a pattern (again: the same subscription).
INSERT INTO subscriptions (worker_id, pattern) VALUES (%(worker_id)s, %(pattern)s)
ON CONFLICT (worker_id, pattern) DO UPDATE SET pattern = EXCLUDED.pattern
RETURNING subscription_id, worker_id, pattern, created_at;

-- name: unsubscribe
-- Remove a subscription.
DELETE FROM subscriptions WHERE subscription_id = %(subscription_id)s RETURNING subscription_id;

-- name: list_subscriptions
-- Subscriptions with their workers' names, optionally one worker's.
SELECT s.subscription_id, s.worker_id, s.pattern, s.created_at, w.name AS worker_name
FROM subscriptions s JOIN workers w USING (worker_id)
WHERE (%(worker_id)s::text IS NULL OR s.worker_id = %(worker_id)s::text)
ORDER BY s.pattern, w.name;

-- name: subscribers
-- The workers an event starts: one per worker however many of its patterns match (an exact name, a
-- prefix ending in `*`, or `*`), each with its current version's code.
SELECT DISTINCT ON (w.worker_id) w.worker_id, w.version, w.code_hash, w.language, w.cache_id, c.code
FROM subscriptions s JOIN workers w USING (worker_id) JOIN job_code c ON c.code_hash = w.code_hash
WHERE s.pattern = %(name)s
   OR (right(s.pattern, 1) = '*' AND starts_with(%(name)s, left(s.pattern, length(s.pattern) - 1)))
ORDER BY w.worker_id;

-- name: insert_event
-- Record a published event; an idempotency key seen before inserts nothing (find_event_by_key finds it).
INSERT INTO published_events (name, data, idempotency_key, external_id, trace_id, run_at, source_job_id)
VALUES (%(name)s, %(data)s::jsonb, %(idempotency_key)s, %(external_id)s, %(trace_id)s, %(run_at)s,
        %(source_job_id)s)
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING event_id, created_at;

-- name: find_event_by_key
-- The event that holds an idempotency key, with the jobs it started.
SELECT e.event_id, e.name, e.data,
       COALESCE(ARRAY(SELECT j.job_id FROM jobs_state j WHERE j.event_id = e.event_id ORDER BY j.job_id),
                '{}') AS job_ids
FROM published_events e WHERE e.idempotency_key = %(idempotency_key)s;

-- name: list_events
-- Published events, newest first (keyset on event_id), each with its fan-out jobs.
SELECT e.*,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('job_id', j.job_id, 'worker_id', j.worker_id,
                                                     'status', j.status) ORDER BY j.job_id)
                 FROM jobs_state j WHERE j.event_id = e.event_id), '[]') AS jobs
FROM published_events e
WHERE (%(name)s::text IS NULL OR e.name = %(name)s::text)
  AND (%(before)s::bigint IS NULL OR e.event_id < %(before)s::bigint)
  AND (%(event_id)s::bigint IS NULL OR e.event_id = %(event_id)s::bigint)
ORDER BY e.event_id DESC
LIMIT %(limit)s;

-- Workflows (migration 0010): a run's steps, the events sent to it, and its progress between calls.

-- name: workflow_steps
-- The steps of some workflow runs in the order each reached them. `due`: a sleep that has ended or a
-- wait that has timed out, by the database's clock (the dispatcher tells the replay so).
SELECT job_id, name, seq, kind, status, result, error, attempts, tries, event_type,
       extract(epoch FROM until) * 1000 AS until_ms, until <= now() AS due
FROM job_steps WHERE job_id = ANY(%(job_ids)s::bigint[]) ORDER BY job_id, seq;

-- name: lock_runs
-- Workflow runs whose call may record (status `running`), locked for the rest of the transaction; the
-- recorder keeps those whose attempt is the call's (the fencing token, as every record statement does).
SELECT job_id, attempts FROM jobs_state
WHERE job_id = ANY(%(job_ids)s::bigint[]) AND status = 'running' ORDER BY job_id FOR UPDATE;

-- name: take_events
-- Waiting steps take the oldest event of their type that no step has taken (the run's row is locked, so
-- an event sent meanwhile waits for this transaction).
WITH w AS (
    SELECT * FROM jsonb_to_recordset(%(waits)s::jsonb) AS t(job_id bigint, name text, event_type text)
),
pick AS (
    SELECT w.name, (SELECT i.inbox_id FROM job_inbox i
                    WHERE i.job_id = w.job_id AND i.type = w.event_type AND i.taken_by IS NULL
                    ORDER BY i.inbox_id LIMIT 1) AS inbox_id
    FROM w
)
UPDATE job_inbox i SET taken_by = pick.name FROM pick WHERE i.inbox_id = pick.inbox_id
RETURNING i.job_id, i.taken_by AS name, i.type, i.payload, i.received_at;

-- name: save_steps
-- Store what calls did at their steps: one row per run and step name, holding its latest state. A step's
-- times come from the database's clock (a sleep's end as the run asked, at most 366 days ahead).
WITH s AS (
    SELECT * FROM jsonb_to_recordset(%(steps)s::jsonb) AS t(
        job_id bigint, name text, seq int, kind text, status text, result jsonb, error jsonb, attempts int,
        tries int, config jsonb, until_ms float8, delay_ms float8, event_type text, duration_ms float8,
        logs jsonb, finished boolean)
)
INSERT INTO job_steps AS j (job_id, name, seq, kind, status, result, error, attempts, tries, config, until,
                            event_type, started_at, finished_at, duration_ms, logs)
SELECT job_id, name, seq, kind, status, result, error, attempts, tries, config,
       -- LEAST skips NULLs: a step with no time of its own keeps none.
       CASE WHEN until_ms IS NOT NULL OR delay_ms IS NOT NULL THEN
           LEAST(COALESCE(to_timestamp(until_ms / 1000.0), now() + make_interval(secs => delay_ms / 1000.0)),
                 now() + interval '366 days') END,
       event_type, now() - make_interval(secs => COALESCE(duration_ms, 0) / 1000.0),
       CASE WHEN finished THEN now() END, duration_ms, logs
FROM s
ON CONFLICT (job_id, name) DO UPDATE
SET status = EXCLUDED.status, result = EXCLUDED.result, error = EXCLUDED.error, attempts = EXCLUDED.attempts,
    tries = EXCLUDED.tries, config = COALESCE(EXCLUDED.config, j.config), until = EXCLUDED.until,
    event_type = COALESCE(EXCLUDED.event_type, j.event_type), finished_at = EXCLUDED.finished_at,
    duration_ms = COALESCE(EXCLUDED.duration_ms, j.duration_ms), logs = COALESCE(EXCLUDED.logs, j.logs)
RETURNING job_id, name, until;

-- name: settle_steps
-- Sleeps that ended and waits that timed out, as the call that saw it was told: settled for good.
UPDATE job_steps s SET status = r.status, finished_at = now()
FROM jsonb_to_recordset(%(steps)s::jsonb) AS r(job_id bigint, name text, status text)
WHERE s.job_id = r.job_id AND s.name = r.name AND s.status IN ('sleeping', 'waiting');

-- name: count_steps
-- How many steps runs have recorded (a run that ends in the call that recorded a step).
UPDATE jobs_state j SET steps = (SELECT count(*) FROM job_steps s WHERE s.job_id = j.job_id)
WHERE j.job_id = ANY(%(job_ids)s::bigint[]);

-- name: record_progress
-- Workflow runs that stopped at a step: the job shows where it is (queued for its next call, sleeping,
-- waiting, or retrying a step) and its message is replaced by one due then, in one statement (a new
-- message wakes dispatchers at commit). A call that made progress uses up none of the job's attempts:
-- max_attempts moves on with the attempt number, which stays the fencing token.
WITH r AS (
    SELECT * FROM jsonb_to_recordset(%(runs)s::jsonb) AS t(
        job_id bigint, attempt int, status text, run_at timestamptz, error jsonb, detail jsonb)
),
old AS (
    SELECT job_id, msg_id FROM jobs_state WHERE job_id = ANY(ARRAY(SELECT job_id FROM r))
),
done AS (
    UPDATE jobs_state j
    SET status = r.status, run_at = COALESCE(r.run_at, now()), max_attempts = j.max_attempts + 1,
        error = r.error, steps = (SELECT count(*) FROM job_steps s WHERE s.job_id = j.job_id),
        updated_at = now(),
        msg_id = (SELECT pgmq.send('jobs', jsonb_build_object('job_id', j.job_id),
                                   GREATEST(COALESCE(r.run_at, clock_timestamp()), clock_timestamp())))
    FROM r
    WHERE j.job_id = r.job_id AND j.attempts = r.attempt AND j.status = 'running'
      AND j.job_id = ANY(ARRAY(SELECT job_id FROM r))  -- by primary key, never a scan of the jobs
    RETURNING j.job_id, r.status, r.attempt, r.detail
),
gone AS (
    DELETE FROM pgmq.q_jobs m USING old, done WHERE m.msg_id = old.msg_id AND old.job_id = done.job_id
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT job_id, 'running', status, attempt, detail FROM done WHERE status <> 'queued'
)
SELECT job_id FROM done;

-- name: job_steps
-- One run's steps in the order it reached them.
SELECT name, seq, kind, status, result, error, attempts, config, until, event_type, started_at, finished_at,
       duration_ms, logs
FROM job_steps WHERE job_id = %(job_id)s ORDER BY seq;

-- name: job_inbox
-- Events sent to one run, newest first.
SELECT inbox_id, type, payload, received_at, taken_by FROM job_inbox
WHERE job_id = %(job_id)s ORDER BY inbox_id DESC LIMIT 100;

-- name: lock_job
-- A job's status, its row locked (an event delivery decides on it).
SELECT status FROM jobs_state WHERE job_id = %(job_id)s FOR UPDATE;

-- name: waiting_step
-- The step a waiting run waits at, if it waits for this type.
SELECT name, event_type FROM job_steps
WHERE job_id = %(job_id)s AND kind = 'wait' AND status = 'waiting' ORDER BY seq DESC LIMIT 1;

-- name: open_inbox
-- How many events a run keeps that no step has taken.
SELECT count(*) AS n FROM job_inbox WHERE job_id = %(job_id)s AND taken_by IS NULL;

-- name: add_inbox
-- Keep an event sent to a run; taken_by names the step it woke (NULL: not waited for yet).
INSERT INTO job_inbox (job_id, type, payload, taken_by) VALUES (%(job_id)s, %(type)s, %(payload)s, %(taken_by)s)
RETURNING inbox_id, received_at;

-- name: wake_waiting
-- An event woke a waiting run: its step is completed with the event, and its message is replaced by one
-- due now (a new message wakes dispatchers at commit), in one statement.
WITH st AS (
    UPDATE job_steps SET status = 'completed', result = %(event)s::jsonb, finished_at = now()
    WHERE job_id = %(job_id)s AND name = %(name)s AND status = 'waiting'
    RETURNING job_id
),
old AS (
    SELECT j.job_id, j.msg_id FROM jobs_state j, st WHERE j.job_id = st.job_id
),
done AS (
    UPDATE jobs_state j
    SET status = 'queued', run_at = now(), updated_at = now(),
        msg_id = (SELECT pgmq.send('jobs', jsonb_build_object('job_id', j.job_id)))
    FROM old WHERE j.job_id = old.job_id AND j.status = 'waiting'
    RETURNING j.job_id, j.attempts
),
gone AS (
    DELETE FROM pgmq.q_jobs m USING old, done WHERE m.msg_id = old.msg_id AND old.job_id = done.job_id
),
ev AS (
    INSERT INTO job_events (job_id, from_status, to_status, attempt, detail)
    SELECT job_id, 'waiting', 'queued', attempts, jsonb_build_object('step', %(name)s::text, 'event', %(type)s::text)
    FROM done
)
SELECT count(*) AS woken FROM done;
