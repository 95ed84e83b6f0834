-- keel: compatible
-- The schedules of each flow's live release (docs/flows.md#schedules): written when a version is
-- released or rolled back, fired by trigger-intake. A tick starts its run with the idempotency key
-- `schedule:<id>:<tick>`, so however many replicas race for it, a tick makes one run; `next_fire_at` then
-- moves on only if it still holds the tick fired (compare and set).

CREATE TABLE flow_schedules (
    flow          text NOT NULL REFERENCES flows (name),
    id            text NOT NULL,
    version       integer NOT NULL,                -- the release the schedule comes from
    spec          jsonb NOT NULL,                  -- the schedule as the version declares it (canonical)
    paused        boolean NOT NULL DEFAULT false,  -- kept across releases while the id stays
    next_fire_at  timestamptz,                     -- the next tick; null when there is none
    last_tick_at  timestamptz,                     -- the last tick handled (fired or skipped as missed)
    last_run_id   uuid,                            -- the run the last fired tick started
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flow, id)
);

CREATE INDEX flow_schedules_due ON flow_schedules (next_fire_at) WHERE NOT paused;
