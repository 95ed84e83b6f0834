-- Callback waits and the callbacks received for them (callback-gateway).
--
-- A wait row is written by the transaction that opens the wait (the run's advance) and closed, with the
-- answer later callbacks get, by the transaction that ends it: a callback, a timeout, a cancellation.
-- Callbacks are history: one row per callback received, whatever became of it. Only an early callback's
-- application may change its row afterwards (applied false -> true, once); every other UPDATE, and every
-- DELETE and TRUNCATE, is refused. Tokens are never stored: only the SHA-256 of their claims' id.

CREATE TABLE waits (
    id            text PRIMARY KEY,                  -- '<run>:<step>:<attempt>:wait', as in the history
    run_id        uuid NOT NULL REFERENCES runs (id),
    step          text NOT NULL,
    attempt       integer NOT NULL,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    schema        jsonb,                             -- the step's wait.schema for the callback's output
    opened_at     timestamptz NOT NULL DEFAULT now(),
    timeout_at    timestamptz NOT NULL,
    heartbeat_at  timestamptz,                       -- the next heartbeat is due by then
    closed_at     timestamptz,
    outcome       jsonb,                             -- the stored answer: {"wait_id", "status", "closed_at"}
    CHECK ((status = 'open') = (closed_at IS NULL))
);

CREATE INDEX waits_open ON waits (timeout_at) WHERE status = 'open';
CREATE INDEX waits_by_run ON waits (run_id, step);

CREATE TABLE callbacks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_digest  text NOT NULL,                     -- hex SHA-256 of the token claims' id, never the token
    wait_id       text NOT NULL,                     -- the claims' wait: it may not be open yet
    run_id        uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('succeeded', 'partial', 'failed', 'heartbeat')),
    output        jsonb NOT NULL DEFAULT 'null',
    resources     jsonb NOT NULL DEFAULT '{}',       -- {"name": "res:sha256:..."}
    received_at   timestamptz NOT NULL DEFAULT now(),
    disposition   text NOT NULL                      -- what became of it when received
                  CHECK (disposition IN ('applied', 'early', 'duplicate', 'refused')),
    applied       boolean NOT NULL DEFAULT false,
    applied_at    timestamptz,
    answer        jsonb                              -- what the sender was told
);

CREATE INDEX callbacks_by_wait ON callbacks (wait_id, received_at);
-- Once only: one applied terminal callback per wait, and one kept early one.
CREATE UNIQUE INDEX callbacks_applied_once ON callbacks (wait_id) WHERE applied AND status <> 'heartbeat';
CREATE UNIQUE INDEX callbacks_one_early ON callbacks (wait_id) WHERE disposition = 'early' AND status <> 'heartbeat';

CREATE FUNCTION keel_callbacks_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.disposition = 'early' AND NOT OLD.applied AND NEW.applied
       AND (NEW.id, NEW.token_digest, NEW.wait_id, NEW.run_id, NEW.status, NEW.output, NEW.resources,
            NEW.received_at, NEW.disposition)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.token_digest, OLD.wait_id, OLD.run_id, OLD.status, OLD.output, OLD.resources,
            OLD.received_at, OLD.disposition)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'keel: callbacks is append-only; % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER callbacks_append_only
    BEFORE UPDATE OR DELETE ON callbacks
    FOR EACH ROW EXECUTE FUNCTION keel_callbacks_guard();
CREATE TRIGGER callbacks_no_truncate
    BEFORE TRUNCATE ON callbacks
    FOR EACH STATEMENT EXECUTE FUNCTION keel_refuse_change();
