-- Triggers that did not become runs, for operators: why, which field, and where the message went
-- (the dead-letter queue keel.dead.keel.triggers keeps the body). One row per message id, so a
-- redelivered rejection is recorded once.

CREATE TABLE trigger_rejections (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id     text UNIQUE,
    routing_key    text NOT NULL,
    flow           text,
    reason         text NOT NULL CHECK (reason IN ('malformed_json', 'invalid_body', 'unknown_flow',
                                                  'no_live_release', 'unknown_version', 'invalid_input')),
    field          text,
    message        text NOT NULL,
    errors         jsonb NOT NULL DEFAULT '[]'::jsonb,
    correlation_id text,
    reply_to       text,
    body_bytes     integer NOT NULL CHECK (body_bytes >= 0),
    received_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX trigger_rejections_recent ON trigger_rejections (received_at DESC);

CREATE TRIGGER trigger_rejections_append_only
    BEFORE UPDATE OR DELETE ON trigger_rejections
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
