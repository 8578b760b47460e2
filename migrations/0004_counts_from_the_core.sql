-- Step counts per task are now written by the writer of the step changes, from the deltas
-- the core computes (TaskProgress.record in TaskerCore): one definition of done, failed and
-- active, in Swift. The trigger that kept a second definition in SQL is dropped.
DROP TRIGGER IF EXISTS steps_counters ON steps;
DROP FUNCTION IF EXISTS tasker_step_counters();

-- Recount once, so the counts start from the truth whatever ran before.
UPDATE tasks t SET
    steps_done   = (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state IN ('complete', 'resolved_manually')),
    steps_error  = (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state = 'error'),
    steps_active = (SELECT count(*) FROM steps s WHERE s.task_id = t.id AND s.state IN ('enqueued', 'in_progress', 'waiting_for_retry'));
