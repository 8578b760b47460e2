-- Which installation (topology prefix) a task belongs to. Several installations may share a
-- database (tests, staging next to production); the reenqueuer's retries and sweeper take
-- only their own tasks, as the outbox relay already takes only its own rows.
ALTER TABLE tasks ADD COLUMN topology TEXT NOT NULL DEFAULT 'tasker';
CREATE INDEX steps_waiting_for_retry ON steps (next_retry_at) WHERE state = 'waiting_for_retry';
