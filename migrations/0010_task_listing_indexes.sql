-- Task listings (the HTTP API's GET /v1/tasks) page newest first by keyset on (created_at, id):
-- one index for the unfiltered listing, one per common filter (state; namespace and name).
-- The new (namespace, name, created_at, id) index covers what tasks_by_template did.
CREATE INDEX IF NOT EXISTS tasks_by_created ON tasks (created_at, id);
CREATE INDEX IF NOT EXISTS tasks_by_state_created ON tasks (state, created_at, id);
CREATE INDEX IF NOT EXISTS tasks_by_template_created ON tasks (namespace, name, created_at, id);
DROP INDEX IF EXISTS tasks_by_template;
