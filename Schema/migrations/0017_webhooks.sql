-- keel: compatible
-- Webhook notifications (docs/notifications.md): the approval-service turns approval and run-failure
-- events into one delivery per target URL (idempotent on the event's message id and the URL) and posts
-- each, signed, with retries; every attempt is kept, append-only, so an operator can see what was sent
-- when and what the receiver answered. No secret is stored: bodies are signed at send time.

CREATE TABLE webhook_deliveries (
    id               text PRIMARY KEY,                 -- the `webhook-id` header, stable across retries
    event_message_id text NOT NULL,                    -- the keel.events message it was made from
    event_type       text NOT NULL,                    -- approval.requested, approval.reminder, ...
    run_id           uuid NOT NULL,
    flow             text NOT NULL,
    target_url       text NOT NULL,
    format           text NOT NULL CHECK (format IN ('standard', 'slack')),
    body             jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_error       text,
    UNIQUE (event_message_id, target_url)
);

-- What senders claim: pending deliveries by due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (created_at DESC);

-- One row per try: the status the receiver answered, or the class of error when there was no answer.
CREATE TABLE webhook_attempts (
    delivery_id      text NOT NULL REFERENCES webhook_deliveries (id),
    attempt          integer NOT NULL CHECK (attempt > 0),
    status_code      integer,
    error_class      text,
    response_excerpt text,
    duration_ms      integer NOT NULL CHECK (duration_ms >= 0),
    attempted_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TRIGGER webhook_attempts_append_only
    BEFORE UPDATE OR DELETE ON webhook_attempts
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
CREATE TRIGGER webhook_attempts_no_truncate
    BEFORE TRUNCATE ON webhook_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION keel_refuse_change();
