-- Hot path (issue 10), fifth round: optimistic finalizer batches.
--
-- A finalizer batch was BEGIN, the lock-and-load, the write call and COMMIT: four exchanges with
-- the server, each waking it and the client. An optimistic batch is two statements outside any
-- explicit transaction: `tasker_read_batch` reads the same rows as `tasker_lock_batch` without
-- locking them, with each task's `lock_version`; the machine decides; `tasker_apply_batch` is called
-- with those versions (g_tasks, g_versions): it locks the tasks in id order (as every batch does
-- first) and raises TK409 if any version differs, so the whole statement, and with it the batch,
-- is rolled back; the finalizer then runs the batch again the locking way. A statement is atomic
-- on its own, so the write call needs no BEGIN or COMMIT.
--
-- Why a matching version is enough: every write that changes what a decision reads (a step's
-- state, attempts, results or unfinished parents, a task's state or counts) goes through
-- tasker_apply_batch, in a transaction that holds the task's lock, and each call gives every task
-- whose steps or state it changes a new lock_version: its one caller (ApplyBatchStatement) lists
-- in c_tasks every task named by the call's audit rows and task moves, and a step never changes
-- without an audit row (a fan-in count only changes with its parent's completion). Equal versions under the lock mean that nothing the batch read
-- has changed since it read it. (The sweeper's re-dispatch moves only a step's deadline, which
-- no decision reads.)
ALTER TABLE tasks ADD COLUMN lock_version bigint NOT NULL DEFAULT 0;

DROP FUNCTION tasker_apply_batch(uuid[], text[], int8[], text[], text[], float8[], float8[], int8[], bool[], uuid[], uuid[],
    text[], text[], int8[], bool[], text[], uuid[], int8[], int8[], int8[], uuid[], int8[], uuid[], text[], bool[], text[], text[],
    text[], text[], text[], uuid[], text[], int8[]);

CREATE FUNCTION tasker_apply_batch(
    -- step rows: the new state of each changed step, and its new unfinished-parent count when it changes too
    s_ids uuid[], s_states text[], s_attempts int8[], s_results text[], s_errors text[],
    s_next_retry float8[], s_deadlines float8[], s_unfinished int8[], s_sets_unfinished bool[],
    -- audit rows: offsets are added to the sort key of the step's newest row
    t_steps uuid[], t_tasks uuid[], t_from text[], t_to text[], t_offsets int8[], t_newest bool[], t_metadata text[],
    -- the tasks this batch changes, with how their step counts move (zero when they do not)
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
    d_outbox int8[],
    -- an optimistic batch's tasks, with the versions it read them at (empty: the caller holds the locks)
    g_tasks uuid[], g_versions int8[]
) RETURNS bigint LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    outbox_id bigint;
    unchanged int;
BEGIN
    IF cardinality(g_tasks) > 0 THEN
        -- Lock the tasks in id order, as every batch does first; refuse the batch if one moved on.
        SELECT count(*) INTO unchanged
        FROM (SELECT x.id FROM tasks x JOIN unnest(g_tasks, g_versions) AS g(id, version)
                     ON g.id = x.id AND g.version = x.lock_version
              ORDER BY x.id FOR UPDATE OF x) l;
        IF unchanged <> cardinality(g_tasks) THEN
            RAISE EXCEPTION 'a task of this batch changed after it was read' USING ERRCODE = 'TK409';
        END IF;
    END IF;
    -- Every task whose steps or state this batch changes gets a new lock_version, with its step
    -- counts: the caller (ApplyBatchStatement) names in c_tasks every task of t_tasks and m_tasks.
    IF cardinality(c_tasks) > 0 THEN
        UPDATE tasks t SET lock_version = t.lock_version + 1, steps_done = t.steps_done + d.done,
                           steps_error = t.steps_error + d.failed, steps_active = t.steps_active + d.active
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

-- The optimistic read (ReadBatchStatement): the rows of tasker_lock_batch (0014), with no locks,
-- in one snapshot, and each task's lock_version (last column; 0 on other rows). Every child a
-- completion may make ready carries its dispatch document.
CREATE FUNCTION tasker_read_batch(p_tasks uuid[], p_steps uuid[], p_completed uuid[])
RETURNS TABLE (r_kind int4, r_id uuid, r_task uuid, r_state text, r_name text, r_n1 int4, r_n2 int4, r_n3 int4, r_n4 int4,
               r_flag bool, r_f1 float8, r_f2 float8, r_f3 float8, r_f4 float8, r_document text,
               r_version int8)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
        SELECT 0, t.id, NULL::uuid, t.state, '', t.steps_total, t.steps_done, t.steps_error, t.steps_active,
               false, 0::float8, 0::float8, 0::float8, 0::float8, NULL::text, t.lock_version
        FROM tasks t WHERE t.id = ANY(p_tasks)
        UNION ALL
        SELECT 1, s.id, s.task_id, s.state, s.name, s.attempts, s.max_attempts, s.attempt_base, 0,
               s.retryable, s.backoff_base_seconds, s.backoff_max_seconds, s.backoff_jitter, s.timeout_seconds, NULL::text, 0::int8
        FROM steps s WHERE s.id = ANY(p_steps)
        UNION ALL
        SELECT 2, c.id, c.task_id, c.state, c.parent::text, c.unfinished_parents, 0, 0, 0,
               false, 0::float8, 0::float8, 0::float8, 0::float8,
               CASE WHEN c.first AND c.unfinished_parents <= c.completing THEN tasker_dispatch_document(c.id) END, 0::int8
        FROM (SELECT l.*, count(*) OVER (PARTITION BY l.id) AS completing,
                     row_number() OVER (PARTITION BY l.id ORDER BY l.parent) = 1 AS first
              FROM (SELECT e.parent_step_id AS parent, x.id, x.task_id, x.state, x.attempts, x.unfinished_parents
                    FROM step_edges e JOIN steps x ON x.id = e.child_step_id
                    WHERE e.parent_step_id = ANY(p_completed)) l) c;
END;
$$;
