-- One round trip stores a batch of planned tasks (the coordinator's work): the tasks, their
-- steps with their unfinished-parent counts, the edges and the first audit rows. The plans
-- come from Swift (TaskPlanner); this function only writes them.
--
-- A plan whose identity hash another task (or an earlier plan of the batch) already has is a
-- duplicate; a plan whose template version is not registered stores nothing. Returns one row
-- per plan, in order: its id, whether it was stored, and the existing task's id for a
-- duplicate. Arrays cannot carry NULL through binds: '' stands for "none".
CREATE FUNCTION tasker_create_tasks(
    p_ids uuid[], p_namespaces text[], p_names text[], p_versions text[], p_contexts text[], p_hashes text[],
    p_initiators text[], p_sources text[], p_reasons text[], p_tags text[], p_priorities int8[], p_step_counts int8[],
    p_started bool, p_topology text,
    s_ids uuid[], s_tasks uuid[], s_names text[], s_handlers text[], s_positions int8[], s_retryable bool[],
    s_max_attempts int8[], s_base float8[], s_max float8[], s_jitter float8[], s_timeouts float8[], s_configs text[],
    s_parents int8[],
    e_tasks uuid[], e_parents uuid[], e_children uuid[]
) RETURNS TABLE (plan_id uuid, stored bool, existing_id uuid) LANGUAGE plpgsql AS $$
DECLARE
    created uuid[];
BEGIN
    WITH inserted AS (
        INSERT INTO tasks (id, template_id, namespace, name, version, state, context, identity_hash,
                           initiator, source_system, reason, tags, priority, steps_total, topology)
        SELECT i.id, t.id, t.namespace, t.name, t.version, CASE WHEN p_started THEN 'in_progress' ELSE 'pending' END,
               i.context::jsonb, NULLIF(i.identity_hash, ''), NULLIF(i.initiator, ''), NULLIF(i.source_system, ''),
               NULLIF(i.reason, ''), ARRAY(SELECT jsonb_array_elements_text(i.tags::jsonb)), i.priority, i.steps_total,
               p_topology
        FROM unnest(p_ids, p_namespaces, p_names, p_versions, p_contexts, p_hashes, p_initiators, p_sources, p_reasons,
                    p_tags, p_priorities, p_step_counts)
             WITH ORDINALITY AS i(id, namespace, name, version, context, identity_hash, initiator, source_system, reason,
                                  tags, priority, steps_total, ordinal)
        JOIN task_templates t ON t.namespace = i.namespace AND t.name = i.name AND t.version = i.version
        ORDER BY i.ordinal
        ON CONFLICT (identity_hash) WHERE identity_hash IS NOT NULL DO NOTHING
        RETURNING id
    )
    SELECT COALESCE(array_agg(id), '{}') INTO created FROM inserted;

    IF cardinality(created) > 0 THEN
        INSERT INTO steps (id, task_id, name, handler, position, retryable, max_attempts,
                           backoff_base_seconds, backoff_max_seconds, backoff_jitter, timeout_seconds, handler_config,
                           unfinished_parents)
        SELECT u.id, u.task_id, u.name, u.handler, u.position, u.retryable, u.max_attempts,
               u.base, u.max, u.jitter, u.timeout, u.config::jsonb, u.parents
        FROM unnest(s_ids, s_tasks, s_names, s_handlers, s_positions, s_retryable, s_max_attempts, s_base, s_max,
                    s_jitter, s_timeouts, s_configs, s_parents)
             AS u(id, task_id, name, handler, position, retryable, max_attempts, base, max, jitter, timeout, config, parents)
        WHERE u.task_id = ANY(created);

        INSERT INTO step_edges (task_id, parent_step_id, child_step_id)
        SELECT u.task_id, u.parent, u.child
        FROM unnest(e_tasks, e_parents, e_children) AS u(task_id, parent, child)
        WHERE u.task_id = ANY(created);

        INSERT INTO task_transitions (task_id, from_state, to_state, sort_key, most_recent)
        SELECT u.id, NULL, 'pending', 1, NOT p_started FROM unnest(created) AS u(id)
        UNION ALL
        SELECT u.id, 'pending', 'in_progress', 2, true FROM unnest(created) AS u(id) WHERE p_started;

        INSERT INTO step_transitions (step_id, task_id, from_state, to_state, sort_key, most_recent)
        SELECT u.id, u.task_id, NULL, 'pending', 1, true
        FROM unnest(s_ids, s_tasks) AS u(id, task_id)
        WHERE u.task_id = ANY(created);
    END IF;

    RETURN QUERY
        SELECT p.id, p.id = ANY(created),
               CASE WHEN p.id = ANY(created) OR p.hash = '' THEN NULL
                    ELSE (SELECT t.id FROM tasks t WHERE t.identity_hash = p.hash) END
        FROM unnest(p_ids, p_hashes) WITH ORDINALITY AS p(id, hash, ordinal)
        ORDER BY p.ordinal;
END;
$$;
