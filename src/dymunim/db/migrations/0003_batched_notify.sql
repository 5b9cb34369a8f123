-- One NOTIFY per 40 transitions instead of one per transition: a 100-job claim or record sent 100
-- notifications, each parsed by every API process. Payloads stay under Postgres' 8,000-byte limit.
-- Still in the same transaction as the transitions, so only committed states are announced.
DROP TRIGGER job_events_notify ON job_events;
DROP FUNCTION dymunim_notify_job_event();

CREATE FUNCTION dymunim_notify_job_events() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('dymunim_jobs', chunk)
    FROM (
        SELECT json_agg(json_build_object(
                   'event_id', event_id, 'job_id', job_id, 'status', to_status,
                   'from', from_status, 'attempt', attempt, 'at', at) ORDER BY event_id)::text AS chunk
        FROM (SELECT *, (row_number() OVER (ORDER BY event_id) - 1) / 40 AS grp FROM new_events) e
        GROUP BY grp
    ) chunks;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION dymunim_notify_job_events();

-- Every status change writes a new row version into every index of jobs_state, so each index costs
-- three times per job. created_at ordering follows job_id (the list is keyset-paged by job_id), and
-- most jobs have no idempotency key: keep only entries that are used.
DROP INDEX jobs_state_created_idx;
ALTER TABLE jobs_state DROP CONSTRAINT jobs_state_idempotency_key_key;
CREATE UNIQUE INDEX jobs_state_idempotency_key ON jobs_state (idempotency_key) WHERE idempotency_key IS NOT NULL;
