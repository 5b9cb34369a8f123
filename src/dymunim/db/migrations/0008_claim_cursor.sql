-- Claims read forward from a cursor (issue 13). While some transaction pins the xmin horizon (a
-- forgotten BEGIN, a pg_dump, REPEATABLE READ readers), vacuum cannot remove the row versions a claim
-- and a finish leave in pgmq.q_jobs, and a claim that walked the vt index from its start visited every
-- one of them: 2,000 buffers for 10 messages after 40 s, claims 30x slower. A dispatcher now claims
-- messages above the highest msg_id it has claimed (the primary key from there on holds only what came
-- after); the vt-ordered sweep, once a second, takes what the cursor passed: retries, delayed jobs,
-- lost attempts, messages released by a stopping dispatcher.
--
-- msg_ids are taken at insert but seen at commit, so a transaction can commit a message below a cursor
-- that has already moved on. The wake-up NOTIFY therefore carries the smallest msg_id its statement
-- inserted, and a dispatcher whose cursor is past it steps back (dispatch/wakeup.py). NOTIFY is delivered
-- at commit, exactly when the message becomes visible.
DROP TRIGGER jobs_queue_wake ON pgmq.q_jobs;
DROP FUNCTION dymunim_wake_dispatchers();

CREATE FUNCTION dymunim_wake_dispatchers() RETURNS trigger AS $$
DECLARE
    first_msg_id bigint := (SELECT min(msg_id) FROM new_msgs);
BEGIN
    IF first_msg_id IS NOT NULL THEN  -- a statement that inserted nothing wakes nobody
        PERFORM pg_notify('pgmq.q_jobs.INSERT', first_msg_id::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_queue_wake AFTER INSERT ON pgmq.q_jobs
    REFERENCING NEW TABLE AS new_msgs
    FOR EACH STATEMENT EXECUTE FUNCTION dymunim_wake_dispatchers();
