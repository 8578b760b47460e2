-- Hot path (issue 10), third round: the write call of a batch in fewer statements and row
-- versions. Replaces tasker_apply_batch (0007, 0014) with the same effects:
--
-- * A child a batch both counts down (its unfinished parents) and dispatches is updated once,
--   not twice: the step rows carry the new count (`s_sets_unfinished`), and the separate
--   count-down statement only takes children with no other change.
-- * Clearing the old newest audit row and inserting the new ones is one statement: the cleared
--   row (the step's, or task's, newest) gives the base of the new sort keys, where each new row
--   looked the step's maximum sort key up again. The newest row is the one with the highest
--   sort key (the writer keeps it so); were it not, the unique (entity, sort_key) index would
--   refuse the insert and the batch would roll back.
-- * Plans are cached per session, and never sequential scans (as in 0014).
--
-- Arrays cannot carry NULL through binds: '' and -1 stand for "none".
DROP FUNCTION IF EXISTS tasker_apply_batch(uuid[], text[], int8[], text[], text[], float8[], float8[], uuid[], uuid[], text[],
    text[], int8[], bool[], text[], uuid[], int8[], int8[], int8[], uuid[], int8[], uuid[], text[], bool[], text[], text[],
    text[], text[], text[], uuid[], text[], int8[]);

CREATE FUNCTION tasker_apply_batch(
    -- step rows: the new state of each changed step, and its new unfinished-parent count when it changes too
    s_ids uuid[], s_states text[], s_attempts int8[], s_results text[], s_errors text[],
    s_next_retry float8[], s_deadlines float8[], s_unfinished int8[], s_sets_unfinished bool[],
    -- audit rows: offsets are added to the sort key of the step's newest row
    t_steps uuid[], t_tasks uuid[], t_from text[], t_to text[], t_offsets int8[], t_newest bool[], t_metadata text[],
    -- the tasks' step counts move with their steps
    c_tasks uuid[], c_done int8[], c_failed int8[], c_active int8[],
    -- fan-in: remaining unfinished parents of children with no other change
    u_steps uuid[], u_counts int8[],
    -- task moves (already checked against the task state machine); a task may move more than
    -- once in a batch (an operator's retry of a failed task: error → pending → in_progress):
    -- its moves get consecutive sort keys, the last one is `most_recent` and sets its state
    m_tasks uuid[], m_to text[], m_finished bool[], m_from text[], m_metadata text[],
    -- the batch's messages: one outbox row
    o_exchanges text[], o_routing_keys text[], o_types text[], o_ids uuid[], o_bodies text[],
    -- outbox rows of earlier batches whose messages were all confirmed
    d_outbox int8[]
) RETURNS bigint LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    outbox_id bigint;
BEGIN
    IF cardinality(c_tasks) > 0 THEN
        UPDATE tasks t SET steps_done = t.steps_done + d.done, steps_error = t.steps_error + d.failed,
                           steps_active = t.steps_active + d.active
        FROM unnest(c_tasks, c_done, c_failed, c_active) AS d(id, done, failed, active)
        WHERE t.id = d.id AND t.id = ANY(c_tasks);
    END IF;
    IF cardinality(s_ids) > 0 THEN
        UPDATE steps s SET state = i.state, attempts = i.attempts, updated_at = now(),
               results = COALESCE(NULLIF(i.results, '')::jsonb, s.results),
               last_error = COALESCE(NULLIF(i.last_error, '')::jsonb, s.last_error),
               next_retry_at = CASE WHEN i.next_retry_at < 0 THEN NULL ELSE to_timestamp(i.next_retry_at) END,
               deadline = CASE WHEN i.deadline < 0 THEN NULL ELSE to_timestamp(i.deadline) END,
               unfinished_parents = CASE WHEN i.sets_unfinished THEN i.unfinished ELSE s.unfinished_parents END
        FROM unnest(s_ids, s_states, s_attempts, s_results, s_errors, s_next_retry, s_deadlines, s_unfinished, s_sets_unfinished)
             AS i(id, state, attempts, results, last_error, next_retry_at, deadline, unfinished, sets_unfinished)
        WHERE s.id = i.id AND s.id = ANY(s_ids);
    END IF;
    IF cardinality(t_steps) > 0 THEN
        WITH cleared AS (
            UPDATE step_transitions x SET most_recent = false
            WHERE x.step_id = ANY(t_steps) AND x.most_recent
            RETURNING x.step_id, x.sort_key
        )
        INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent, metadata)
        SELECT i.step_id, i.task_id, i.from_state, i.to_state, COALESCE(c.sort_key, 0) + i.sort_offset,
               i.most_recent, i.metadata::jsonb
        FROM unnest(t_steps, t_tasks, t_from, t_to, t_offsets, t_newest, t_metadata)
             AS i(step_id, task_id, from_state, to_state, sort_offset, most_recent, metadata)
        LEFT JOIN cleared c ON c.step_id = i.step_id;
    END IF;
    IF cardinality(u_steps) > 0 THEN
        UPDATE steps s SET unfinished_parents = c.n
        FROM unnest(u_steps, u_counts) AS c(id, n)
        WHERE s.id = c.id AND s.id = ANY(u_steps);
    END IF;
    IF cardinality(m_tasks) > 0 THEN
        UPDATE tasks t SET state = i.to_state, updated_at = now(),
               completed_at = CASE WHEN i.finished THEN now() ELSE NULL END
        FROM (SELECT DISTINCT ON (u.id) u.id, u.to_state, u.finished
              FROM unnest(m_tasks, m_to, m_finished) WITH ORDINALITY AS u(id, to_state, finished, n)
              ORDER BY u.id, u.n DESC) i
        WHERE t.id = i.id AND t.id = ANY(m_tasks);
        WITH cleared AS (
            UPDATE task_transitions x SET most_recent = false
            WHERE x.task_id = ANY(m_tasks) AND x.most_recent
            RETURNING x.task_id, x.sort_key
        )
        INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent, metadata)
        SELECT i.id, i.from_state, i.to_state,
               COALESCE(c.sort_key, 0) + row_number() OVER (PARTITION BY i.id ORDER BY i.n),
               i.n = max(i.n) OVER (PARTITION BY i.id),
               i.metadata::jsonb
        FROM unnest(m_tasks, m_from, m_to, m_metadata) WITH ORDINALITY AS i(id, from_state, to_state, metadata, n)
        LEFT JOIN cleared c ON c.task_id = i.id;
    END IF;
    IF cardinality(d_outbox) > 0 THEN
        DELETE FROM outbox_batches WHERE id = ANY(d_outbox);
    END IF;
    IF cardinality(o_ids) > 0 THEN
        INSERT INTO outbox_batches (exchanges, routing_keys, message_types, message_ids, bodies)
        VALUES (o_exchanges, o_routing_keys, o_types, o_ids, o_bodies)
        RETURNING id INTO outbox_id;
    END IF;
    RETURN outbox_id;
END;
$$;
