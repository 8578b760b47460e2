-- Tasker initial schema: template registry, tasks, steps, step edges and the two
-- append-only transition tables (Statesman's shape: sort_key + most_recent).
--
-- The `state` columns of tasks and steps are a cache of the most recent transition,
-- written in the same transaction as the transition row; they let readiness queries and
-- compare-and-set transitions use one indexed row instead of the audit table.

CREATE TABLE task_templates (
    id              BIGSERIAL PRIMARY KEY,
    namespace       TEXT        NOT NULL,
    name            TEXT        NOT NULL,
    version         TEXT        NOT NULL,
    version_major   INTEGER     NOT NULL,
    version_minor   INTEGER     NOT NULL,
    version_patch   INTEGER     NOT NULL,
    version_pre     TEXT,
    definition      JSONB       NOT NULL,
    content_hash    TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT task_templates_version_unique UNIQUE (namespace, name, version)
);

CREATE TABLE tasks (
    id              UUID PRIMARY KEY,
    template_id     BIGINT      NOT NULL REFERENCES task_templates (id),
    namespace       TEXT        NOT NULL,
    name            TEXT        NOT NULL,
    version         TEXT        NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'pending',
    context         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    identity_hash   TEXT,
    initiator       TEXT,
    source_system   TEXT,
    reason          TEXT,
    tags            TEXT[]      NOT NULL DEFAULT '{}',
    priority        INTEGER     NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX tasks_identity_hash_unique ON tasks (identity_hash) WHERE identity_hash IS NOT NULL;
CREATE INDEX tasks_active_by_state ON tasks (state, created_at) WHERE state IN ('pending', 'in_progress');
CREATE INDEX tasks_by_template ON tasks (namespace, name, created_at);

CREATE TABLE steps (
    id              UUID PRIMARY KEY,
    task_id         UUID             NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    name            TEXT             NOT NULL,
    handler         TEXT             NOT NULL,
    position        INTEGER          NOT NULL,
    state           TEXT             NOT NULL DEFAULT 'pending',
    retryable       BOOLEAN          NOT NULL DEFAULT true,
    max_attempts    INTEGER          NOT NULL DEFAULT 3,
    backoff_base_seconds DOUBLE PRECISION NOT NULL DEFAULT 1,
    backoff_max_seconds  DOUBLE PRECISION NOT NULL DEFAULT 60,
    backoff_jitter  DOUBLE PRECISION NOT NULL DEFAULT 0.1,
    timeout_seconds DOUBLE PRECISION NOT NULL DEFAULT 300,
    handler_config  JSONB            NOT NULL DEFAULT '{}'::jsonb,
    attempts        INTEGER          NOT NULL DEFAULT 0,
    next_retry_at   TIMESTAMPTZ,
    inputs          JSONB,
    results         JSONB,
    last_error      JSONB,
    created_at      TIMESTAMPTZ      NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT steps_name_unique UNIQUE (task_id, name)
);
CREATE INDEX steps_by_task_state ON steps (task_id, state);
CREATE INDEX steps_retry_due ON steps (next_retry_at) WHERE state = 'waiting_for_retry';

CREATE TABLE step_edges (
    task_id         UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    parent_step_id  UUID NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    child_step_id   UUID NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_step_id, child_step_id)
);
CREATE INDEX step_edges_by_child ON step_edges (child_step_id);
CREATE INDEX step_edges_by_task ON step_edges (task_id);

CREATE TABLE task_transitions (
    id              BIGSERIAL PRIMARY KEY,
    task_id         UUID        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    from_state      TEXT,
    to_state        TEXT        NOT NULL,
    sort_key        INTEGER     NOT NULL,
    most_recent     BOOLEAN     NOT NULL,
    metadata        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT task_transitions_sort_key_unique UNIQUE (task_id, sort_key)
);
CREATE UNIQUE INDEX task_transitions_most_recent ON task_transitions (task_id) WHERE most_recent;

CREATE TABLE step_transitions (
    id              BIGSERIAL PRIMARY KEY,
    step_id         UUID        NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    task_id         UUID        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    from_state      TEXT,
    to_state        TEXT        NOT NULL,
    sort_key        INTEGER     NOT NULL,
    most_recent     BOOLEAN     NOT NULL,
    metadata        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT step_transitions_sort_key_unique UNIQUE (step_id, sort_key)
);
CREATE UNIQUE INDEX step_transitions_most_recent ON step_transitions (step_id) WHERE most_recent;
CREATE INDEX step_transitions_by_task ON step_transitions (task_id);

-- Transition rows are an append-only audit trail: only the most_recent flag may change.
CREATE FUNCTION tasker_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('tasker.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME;
    END IF;
    IF NEW.most_recent IS DISTINCT FROM OLD.most_recent
       AND (NEW.id, NEW.from_state, NEW.to_state, NEW.sort_key, NEW.metadata, NEW.created_at)
           IS NOT DISTINCT FROM (OLD.id, OLD.from_state, OLD.to_state, OLD.sort_key, OLD.metadata, OLD.created_at)
       AND NOT NEW.most_recent THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are append-only (only most_recent may be cleared)', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER task_transitions_append_only BEFORE UPDATE OR DELETE ON task_transitions
    FOR EACH ROW EXECUTE FUNCTION tasker_transitions_append_only();
CREATE TRIGGER step_transitions_append_only BEFORE UPDATE OR DELETE ON step_transitions
    FOR EACH ROW EXECUTE FUNCTION tasker_transitions_append_only();
