-- A transition names two job statuses; like jobs_state.status (0001), they may only be the statuses
-- dymunim knows (dymunim.domain.JobStatus: a test compares that enum with these constraints).
ALTER TABLE job_events
    ADD CONSTRAINT job_events_to_status_check
        CHECK (to_status IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'dead', 'cancelled')),
    ADD CONSTRAINT job_events_from_status_check
        CHECK (from_status IN ('queued', 'running', 'succeeded', 'failed', 'retrying', 'dead', 'cancelled'));
