-- Runs, their append-only history, and the attempts of their steps.

CREATE TABLE runs (
    id              uuid PRIMARY KEY,                 -- UUIDv7: time-ordered
    flow            text NOT NULL,
    version         integer NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    input           jsonb NOT NULL,
    idempotency_key text NOT NULL,
    correlation_id  text NOT NULL,
    actor           text NOT NULL,
    reply_to        text,
    traceparent     text,
    last_seq        integer NOT NULL DEFAULT 0,       -- seq of the newest fact in run_history
    state           jsonb,                            -- reducer snapshot; derived, history is the truth
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    FOREIGN KEY (flow, version) REFERENCES flow_versions (flow, version),
    UNIQUE (flow, idempotency_key)
);

CREATE INDEX runs_by_flow ON runs (flow, created_at DESC);
CREATE INDEX runs_unfinished ON runs (status, created_at)
    WHERE status NOT IN ('succeeded', 'failed', 'cancelled');

-- The run's facts, in order. Its state is a fold of these.
CREATE TABLE run_history (
    run_id      uuid NOT NULL REFERENCES runs (id),
    seq         integer NOT NULL CHECK (seq > 0),
    kind        text NOT NULL,                        -- e.g. run.triggered, step.started, approval.decided
    step        text,
    attempt     integer,
    actor       text,
    error_class text CHECK (error_class IN ('transient', 'permanent', 'timeout', 'cancelled')),
    fact        jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, seq)
);

CREATE TRIGGER run_history_append_only
    BEFORE UPDATE OR DELETE ON run_history
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
CREATE TRIGGER run_history_no_truncate
    BEFORE TRUNCATE ON run_history
    FOR EACH STATEMENT EXECUTE FUNCTION keel_refuse_change();

-- Each try of a step. The lease (owner, token, expiry) says which executor holds it; the token only grows,
-- so a result carrying an older token comes from a lost lease and is refused.
CREATE TABLE step_attempts (
    run_id           uuid NOT NULL REFERENCES runs (id),
    step             text NOT NULL,
    attempt          integer NOT NULL CHECK (attempt > 0),
    idempotency_key  text NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'scheduled'
                     CHECK (status IN ('scheduled', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out')),
    pool             text NOT NULL DEFAULT 'default',
    shard            integer NOT NULL DEFAULT 0 CHECK (shard >= 0),
    lease_owner      text,
    lease_token      bigint NOT NULL DEFAULT 0,
    lease_expires_at timestamptz,
    scheduled_at     timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    error_class      text CHECK (error_class IN ('transient', 'permanent', 'timeout', 'cancelled')),
    error_message    text,
    outputs          jsonb,
    PRIMARY KEY (run_id, step, attempt)
);

CREATE INDEX step_attempts_leases ON step_attempts (lease_expires_at)
    WHERE status = 'running';
