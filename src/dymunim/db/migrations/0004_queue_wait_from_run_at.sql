-- Queue wait is measured from when a job may run (its run_at, for delayed jobs), not from submit:
-- a job delayed by an hour did not wait an hour in the queue. The claim keeps run_at for this.
CREATE OR REPLACE FUNCTION dymunim_rollup_events() RETURNS trigger AS $$
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
