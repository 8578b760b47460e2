-- Hot path (issue 10), fifth round: a batch of new tasks in one call.
--
-- The coordinator created a batch of tasks in a transaction of two calls: tasker_create_tasks,
-- whose answer (which requests were duplicates) the machine needed before deciding, then the
-- write call with COMMIT. Requests are almost never duplicates, so the coordinator now decides
-- first, as if every task of the batch were new, and sends both calls as one:
-- tasker_start_batch creates the tasks and, if every one of them was stored, applies the
-- decision (tasker_apply_batch, 0017) in the same statement, atomic on its own; if one was not
-- (a duplicate identity, a template removed since the coordinator loaded it), it raises TK409,
-- nothing is written, and the coordinator runs the batch the two-call way, which decides with
-- the duplicates known.
--
-- Arguments: tasker_create_tasks's 30, then tasker_apply_batch's 35.
CREATE FUNCTION tasker_start_batch(
    uuid[], text[], text[], text[], text[], text[], text[], text[], text[], text[], int8[], int8[],
    bool, text, uuid[], uuid[], text[], text[], int8[], bool[], int8[], float8[], float8[],
    float8[], float8[], text[], int8[], uuid[], uuid[], uuid[],
    uuid[], text[], int8[], text[], text[], float8[], float8[], int8[], bool[], uuid[], uuid[],
    text[], text[], int8[], bool[], text[], uuid[], int8[], int8[], int8[], uuid[], int8[], uuid[],
    text[], bool[], text[], text[], text[], text[], text[], uuid[], text[], int8[], uuid[], int8[]
) RETURNS bigint LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
    refused int;
BEGIN
    SELECT count(*) FILTER (WHERE NOT c.stored) INTO refused
    FROM tasker_create_tasks($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
        $21, $22, $23, $24, $25, $26, $27, $28, $29, $30) AS c;
    IF refused > 0 THEN
        RAISE EXCEPTION 'a request of this batch is a duplicate or names no registered template' USING ERRCODE = 'TK409';
    END IF;
    RETURN tasker_apply_batch($31, $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42, $43, $44, $45, $46, $47, $48,
        $49, $50, $51, $52, $53, $54, $55, $56, $57, $58, $59, $60, $61, $62, $63, $64, $65);
END;
$$;
