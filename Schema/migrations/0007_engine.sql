-- What the engine needs beside the history: durable timers, concurrency slots and the attempts waiting for
-- one. All of it is derived from the runs' states and written in the same transaction as the facts.

-- A timer the reducer armed (RunState.timers). Step-executor replicas fire due ones: each is deleted in the
-- transaction that records its `timer.fired`, under FOR UPDATE SKIP LOCKED, so no timer fires twice.
CREATE TABLE run_timers (
    id       text PRIMARY KEY,                       -- the reducer's stable timer id (docs/history.md)
    run_id   uuid NOT NULL REFERENCES runs (id),
    due_at   timestamptz NOT NULL,
    purpose  text NOT NULL                           -- for operators: retry, queue-timeout, step-timeout, ...
);

CREATE INDEX run_timers_due ON run_timers (due_at);
CREATE INDEX run_timers_by_run ON run_timers (run_id);

-- Sweepers LISTEN on keel_timers so a timer due sooner than their next look wakes them.
CREATE FUNCTION keel_timers_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keel_timers', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER run_timers_notify
    AFTER INSERT ON run_timers
    FOR EACH STATEMENT EXECUTE FUNCTION keel_timers_notify();

-- Who holds a concurrency slot. `slot` names the limit and its evaluated key ("flow:<flow>:<key>",
-- "step:<flow>:<step>:<key>"); a flow-scope slot is held by the run ("run") until it finishes, a step-scope
-- slot by the attempt ("<step>:<attempt>") until the attempt ends. Counting and granting happen under a
-- transaction-scoped advisory lock on the slot.
CREATE TABLE concurrency_holders (
    slot    text NOT NULL,
    run_id  uuid NOT NULL REFERENCES runs (id),
    holder  text NOT NULL,
    since   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slot, run_id, holder)
);

CREATE INDEX concurrency_holders_by_run ON concurrency_holders (run_id);

-- Attempts waiting for slots, first come first served. When a holder leaves, the oldest waiters of that slot
-- that now fit every one of their slots are dispatched in the same transaction: no polling.
CREATE TABLE concurrency_waiters (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id    uuid NOT NULL REFERENCES runs (id),
    step      text NOT NULL,
    attempt   integer NOT NULL,
    claims    jsonb NOT NULL,                        -- [{"slot": ..., "limit": N, "holder": ...}]
    dispatch  jsonb NOT NULL,                        -- the StepDispatch to publish once granted
    routing_key text NOT NULL,
    since     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, step, attempt)
);

CREATE INDEX concurrency_waiters_claims ON concurrency_waiters USING gin (claims jsonb_path_ops);

