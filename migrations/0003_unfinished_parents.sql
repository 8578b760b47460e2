-- Fan-in without rescans: each step counts its parents that are not yet complete.
-- A completion decrements its children's counters; the child whose counter reaches zero
-- is viable. The decrement's row lock makes exactly one finalizer see the zero.
ALTER TABLE steps ADD COLUMN unfinished_parents INTEGER NOT NULL DEFAULT 0;

UPDATE steps s SET unfinished_parents = (
    SELECT count(*) FROM step_edges e JOIN steps p ON p.id = e.parent_step_id
    WHERE e.child_step_id = s.id AND p.state NOT IN ('complete', 'resolved_manually')
);
