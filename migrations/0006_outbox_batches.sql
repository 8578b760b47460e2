-- The outbox holds one row per committed batch instead of one row per message: a batch that
-- dispatches 200 steps writes and later deletes one row, not 200 (or 800 with their events).
-- The messages are parallel arrays (exchange, routing key, type, message id, body), in the
-- order they were decided. Rows left by the previous layout are carried over, one message each,
-- so an upgrade never loses a message that was committed but not yet published.
CREATE TABLE outbox_batches (
    id              BIGSERIAL PRIMARY KEY,
    exchanges       TEXT[]      NOT NULL,
    routing_keys    TEXT[]      NOT NULL,
    message_types   TEXT[]      NOT NULL,
    message_ids     UUID[]      NOT NULL,
    bodies          TEXT[]      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_batches_by_age ON outbox_batches (created_at);

INSERT INTO outbox_batches (exchanges, routing_keys, message_types, message_ids, bodies, created_at)
SELECT ARRAY[exchange], ARRAY[routing_key], ARRAY[message_type], ARRAY[message_id], ARRAY[body], created_at
FROM outbox ORDER BY id;

DROP TABLE outbox;
