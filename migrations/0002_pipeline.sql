-- The distributed pipeline: a transactional outbox, per-task step counters kept by a
-- trigger (so finalization never rescans a task's steps), and step deadlines for the sweeper.

-- Messages written in the same transaction as the state change they announce; published
-- with confirms after commit, then deleted. A relay republishes rows a crashed process left.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    exchange        TEXT        NOT NULL,
    routing_key     TEXT        NOT NULL,
    message_type    TEXT        NOT NULL,
    message_id      UUID        NOT NULL,
    body            TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_by_age ON outbox (created_at);

ALTER TABLE tasks
    ADD COLUMN steps_total  INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN steps_done   INTEGER NOT NULL DEFAULT 0,  -- complete or resolved_manually
    ADD COLUMN steps_error  INTEGER NOT NULL DEFAULT 0,  -- error
    ADD COLUMN steps_active INTEGER NOT NULL DEFAULT 0;  -- enqueued, in_progress or waiting_for_retry

UPDATE tasks t SET
    steps_total  = (SELECT count(*) FROM steps s WHERE s.task_id = t.id),
    steps_done   = (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state IN ('complete', 'resolved_manually')),
    steps_error  = (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state = 'error'),
    steps_active = (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state IN ('enqueued', 'in_progress', 'waiting_for_retry'));

CREATE FUNCTION tasker_step_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tasks SET
        steps_done = steps_done
            + (NEW.state IN ('complete', 'resolved_manually'))::int - (OLD.state IN ('complete', 'resolved_manually'))::int,
        steps_error = steps_error + (NEW.state = 'error')::int - (OLD.state = 'error')::int,
        steps_active = steps_active
            + (NEW.state IN ('enqueued', 'in_progress', 'waiting_for_retry'))::int
            - (OLD.state IN ('enqueued', 'in_progress', 'waiting_for_retry'))::int
    WHERE id = NEW.task_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER steps_counters AFTER UPDATE OF state ON steps
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION tasker_step_counters();

-- When a dispatched or running attempt is due to finish; the sweeper acts after it plus a grace period.
ALTER TABLE steps ADD COLUMN deadline TIMESTAMPTZ;
CREATE INDEX steps_deadline ON steps (deadline) WHERE state IN ('enqueued', 'in_progress');
