-- The transactional outbox: messages written in the same transaction as the state change that caused them,
-- published by the relay with publisher confirms and marked sent only after the broker's ack.

CREATE TABLE outbox (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    exchange       text NOT NULL,
    routing_key    text NOT NULL,
    message_id     uuid NOT NULL UNIQUE,
    correlation_id text,
    headers        jsonb NOT NULL DEFAULT '{}'::jsonb,
    body           bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    available_at   timestamptz NOT NULL DEFAULT now(),   -- pushed back after a refusal
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    sent_at        timestamptz
);

CREATE INDEX outbox_pending ON outbox (available_at, id) WHERE sent_at IS NULL;

-- Relays LISTEN on keel_outbox so a new message is picked up at once rather than on the next poll.
CREATE FUNCTION keel_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keel_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION keel_outbox_notify();
