-- keel: compatible
-- Sub-flows (docs/flows.md#sub-flows): a run started by another run's `flow` step records its parent,
-- the parent step and the wait that step holds (also the child's idempotency key), so the parent can
-- find its child to cancel it and `keel run show` can link both; `depth` bounds nesting.

ALTER TABLE runs
    ADD COLUMN parent_run_id  uuid REFERENCES runs (id),
    ADD COLUMN parent_step    text,
    ADD COLUMN parent_wait_id text,
    ADD COLUMN depth          integer NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX runs_parent_wait ON runs (parent_wait_id) WHERE parent_wait_id IS NOT NULL;
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
