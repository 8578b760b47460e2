-- Hot path (issue 10), seventh round: new tasks are stored in the state the machine decided.
--
-- tasker_start_batch (0018) inserted a new task's steps as `pending`, each with its audit row,
-- and then, in the same statement, tasker_apply_batch moved the roots to `enqueued`: an update of
-- the task's counts and lock_version, an update of each root, a cleared `most_recent` flag on
-- each root's first audit row (an update of an append-only row, through its trigger) and a
-- second audit row. The machine decides before the call (a creating batch is decided as if every
-- task were new), so the creation can insert those rows as decided instead:
--
--   * each step with its first state (`s_states`: `pending`, or the state the batch moves it to
--     from `pending`), its deadline (`s_deadlines`, -1 for none) and, for a moved step, the audit
--     row `pending → state` (sort key 2, metadata `s_metadata`) after `→ pending` (sort key 1);
--   * each task with its step counts (`p_done`, `p_failed`, `p_active`).
--
-- The rows are the ones the two calls wrote; only the task's lock_version stays 0 (no batch has
-- read the task before it exists). The machine still makes every decision: the caller
-- (StartBatchStatement) folds into the creation only a step's single move out of `pending`, and leaves
-- everything else to tasker_apply_batch in the same statement. The two-call path for batches with
-- duplicates passes every step as `pending` and zero counts, as before.
DROP FUNCTION tasker_start_batch(
    uuid[], text[], text[], text[], text[], text[], text[], text[], text[], text[], int8[], int8[],
    bool, text, uuid[], uuid[], text[], text[], int8[], bool[], int8[], float8[], float8[],
    float8[], float8[], text[], int8[], uuid[], uuid[], uuid[],
    uuid[], text[], int8[], text[], text[], float8[], float8[], int8[], bool[], uuid[], uuid[],
    text[], text[], int8[], bool[], text[], uuid[], int8[], int8[], int8[], uuid[], int8[], uuid[],
    text[], bool[], text[], text[], text[], text[], text[], uuid[], text[], int8[], uuid[], int8[]);
DROP FUNCTION tasker_create_tasks(
    uuid[], text[], text[], text[], text[], text[], text[], text[], text[], text[], int8[], int8[],
    bool, text, uuid[], uuid[], text[], text[], int8[], bool[], int8[], float8[], float8[], float8[], float8[], text[],
    int8[], uuid[], uuid[], uuid[]);

CREATE FUNCTION tasker_create_tasks(
    p_ids uuid[], p_namespaces text[], p_names text[], p_versions text[], p_contexts text[], p_hashes text[],
    p_initiators text[], p_sources text[], p_reasons text[], p_tags text[], p_priorities int8[], p_step_counts int8[],
    p_done int8[], p_failed int8[], p_active int8[],
    p_started bool, p_topology text,
    s_ids uuid[], s_tasks uuid[], s_names text[], s_handlers text[], s_positions int8[], s_retryable bool[],
    s_max_attempts int8[], s_base float8[], s_max float8[], s_jitter float8[], s_timeouts float8[], s_configs text[],
    s_parents int8[], s_states text[], s_deadlines float8[], s_metadata text[],
    e_tasks uuid[], e_parents uuid[], e_children uuid[]
) RETURNS TABLE (plan_id uuid, stored bool, existing_id uuid) LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    created uuid[];
BEGIN
    WITH inserted AS (
        INSERT INTO tasks (id, template_id, namespace, name, version, state, context, identity_hash,
                           initiator, source_system, reason, tags, priority, steps_total, steps_done, steps_error,
                           steps_active, topology)
        SELECT i.id, t.id, t.namespace, t.name, t.version, CASE WHEN p_started THEN 'in_progress' ELSE 'pending' END,
               i.context::jsonb, NULLIF(i.identity_hash, ''), NULLIF(i.initiator, ''), NULLIF(i.source_system, ''),
               NULLIF(i.reason, ''), ARRAY(SELECT jsonb_array_elements_text(i.tags::jsonb)), i.priority, i.steps_total,
               i.done, i.failed, i.active, p_topology
        FROM unnest(p_ids, p_namespaces, p_names, p_versions, p_contexts, p_hashes, p_initiators, p_sources, p_reasons,
                    p_tags, p_priorities, p_step_counts, p_done, p_failed, p_active)
             WITH ORDINALITY AS i(id, namespace, name, version, context, identity_hash, initiator, source_system, reason,
                                  tags, priority, steps_total, done, failed, active, ordinal)
        JOIN task_templates t ON t.namespace = i.namespace AND t.name = i.name AND t.version = i.version
        ORDER BY i.ordinal
        ON CONFLICT (identity_hash) WHERE identity_hash IS NOT NULL DO NOTHING
        RETURNING id
    )
    SELECT COALESCE(array_agg(id), '{}') INTO created FROM inserted;

    IF cardinality(created) > 0 THEN
        INSERT INTO steps (id, task_id, name, handler, position, retryable, max_attempts,
                           backoff_base_seconds, backoff_max_seconds, backoff_jitter, timeout_seconds, handler_config,
                           unfinished_parents, state, deadline)
        SELECT u.id, u.task_id, u.name, u.handler, u.position, u.retryable, u.max_attempts,
               u.base, u.max, u.jitter, u.timeout, u.config::jsonb, u.parents, u.state,
               CASE WHEN u.deadline < 0 THEN NULL ELSE to_timestamp(u.deadline) END
        FROM unnest(s_ids, s_tasks, s_names, s_handlers, s_positions, s_retryable, s_max_attempts, s_base, s_max,
                    s_jitter, s_timeouts, s_configs, s_parents, s_states, s_deadlines)
             AS u(id, task_id, name, handler, position, retryable, max_attempts, base, max, jitter, timeout, config, parents,
                  state, deadline)
        WHERE u.task_id = ANY(created);

        INSERT INTO step_edges (task_id, parent_step_id, child_step_id)
        SELECT u.task_id, u.parent, u.child
        FROM unnest(e_tasks, e_parents, e_children) AS u(task_id, parent, child)
        WHERE u.task_id = ANY(created);

        INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent)
        SELECT u.id, NULL, 'pending', 1, NOT p_started FROM unnest(created) AS u(id)
        UNION ALL
        SELECT u.id, 'pending', 'in_progress', 2, true FROM unnest(created) AS u(id) WHERE p_started;

        INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent, metadata)
        SELECT u.id, u.task_id, NULL, 'pending', 1, u.state = 'pending', '{}'::jsonb
        FROM unnest(s_ids, s_tasks, s_states) AS u(id, task_id, state)
        WHERE u.task_id = ANY(created)
        UNION ALL
        SELECT u.id, u.task_id, 'pending', u.state, 2, true, u.metadata::jsonb
        FROM unnest(s_ids, s_tasks, s_states, s_metadata) AS u(id, task_id, state, metadata)
        WHERE u.task_id = ANY(created) AND u.state <> 'pending';
    END IF;

    RETURN QUERY
        SELECT p.id, p.id = ANY(created),
               CASE WHEN p.id = ANY(created) OR p.hash = '' THEN NULL
                    ELSE (SELECT t.id FROM tasks t WHERE t.identity_hash = p.hash) END
        FROM unnest(p_ids, p_hashes) WITH ORDINALITY AS p(id, hash, ordinal)
        ORDER BY p.ordinal;
END;
$$;

-- tasker_start_batch (0018) with the creation's 36 arguments, then tasker_apply_batch's 35.
CREATE FUNCTION tasker_start_batch(
    uuid[], text[], text[], text[], text[], text[], text[], text[], text[], text[], int8[], int8[],
    int8[], int8[], int8[], bool, text,
    uuid[], uuid[], text[], text[], int8[], bool[], int8[], float8[], float8[], float8[], float8[], text[],
    int8[], text[], float8[], text[], uuid[], uuid[], uuid[],
    uuid[], text[], int8[], text[], text[], float8[], float8[], int8[], bool[], uuid[], uuid[],
    text[], text[], int8[], bool[], text[], uuid[], int8[], int8[], int8[], uuid[], int8[], uuid[],
    text[], bool[], text[], text[], text[], text[], text[], uuid[], text[], int8[], uuid[], int8[]
) RETURNS bigint LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    refused int;
BEGIN
    SELECT count(*) FILTER (WHERE NOT c.stored) INTO refused
    FROM tasker_create_tasks($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
        $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36) AS c;
    IF refused > 0 THEN
        RAISE EXCEPTION 'a request of this batch is a duplicate or names no registered template' USING ERRCODE = 'TK409';
    END IF;
    RETURN tasker_apply_batch($37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48, $49, $50, $51, $52, $53, $54,
        $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65, $66, $67, $68, $69, $70, $71);
END;
$$;
