-- Heartbeats are kept in place on their wait (docs/callbacks.md#heartbeats): how many arrived, when the
-- latest did and the progress it carried. The history records only some of them (HeartbeatRecording) and
-- `callbacks` only a wait's first, so a job heartbeating every second for hours grows neither.

ALTER TABLE waits
    ADD COLUMN heartbeats        integer NOT NULL DEFAULT 0,   -- heartbeats received while open
    ADD COLUMN last_heartbeat_at timestamptz,                  -- when the latest arrived
    ADD COLUMN progress          jsonb;                        -- the output the latest carried
