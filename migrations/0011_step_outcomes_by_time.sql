-- The dashboard's overview counts steps completed and failed per minute over the last hour
-- (TaskQueries.stepOutcomesPerMinute): a partial index on the outcome transitions only, by
-- time, with the outcome included so the count is an index-only scan. One index entry per
-- completed or failed attempt; other transitions (pending, enqueued, in_progress, ...) are not in it.
CREATE INDEX IF NOT EXISTS step_transitions_outcomes_by_time ON step_transitions (created_at) INCLUDE (to_state)
    WHERE to_state IN ('complete', 'error', 'waiting_for_retry');
