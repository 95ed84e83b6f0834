-- Approval gates and the decisions people make on them (approval-service).
--
-- An approval row is written by the transaction that asks for it (the run's advance) and closed by the
-- transaction that decides, times out, voids or cancels it. Decisions are append-only: keel_refuse_change()
-- (0001) refuses every UPDATE, DELETE and TRUNCATE whichever role tries, the services' own included.

CREATE TABLE approvals (
    id                   text PRIMARY KEY,             -- '<run>:<step>:<attempt>:approval', as in the history
    run_id               uuid NOT NULL REFERENCES runs (id),
    flow                 text NOT NULL,
    version              integer NOT NULL,
    step                 text NOT NULL,
    attempt              integer NOT NULL,
    status               text NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'approved', 'rejected', 'changes_requested', 'timed_out',
                                           'cancelled', 'void')),
    summary              text,
    bound                jsonb NOT NULL DEFAULT '[]',  -- the evaluated `bind` values
    digests              text[] NOT NULL DEFAULT '{}', -- one SHA-256 per bound value: what an approval covers
    approvers            text[] NOT NULL,              -- 'alice', 'group:reviewers'
    required_approvals   integer NOT NULL CHECK (required_approvals >= 1),
    allow_self_approval  boolean NOT NULL,
    request_changes_step text,
    requester            text,
    requested_at         timestamptz NOT NULL DEFAULT now(),
    timeout_at           timestamptz,
    closed_at            timestamptz,
    closed_reason        text
);

CREATE INDEX approvals_pending ON approvals (requested_at DESC) WHERE status = 'pending';
CREATE INDEX approvals_by_run ON approvals (run_id, step);

CREATE TABLE approval_decisions (
    approval_id text NOT NULL REFERENCES approvals (id),
    approver    text NOT NULL,                        -- the API token's name
    token_id    text NOT NULL,                        -- which token decided (not the secret)
    decision    text NOT NULL CHECK (decision IN ('approve', 'reject', 'request_changes')),
    note        text CHECK (length(note) <= 10000),
    digests     text[] NOT NULL,                      -- the bound digests this decision covers
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (approval_id, approver)               -- one decision per approver per approval
);

CREATE TRIGGER approval_decisions_append_only
    BEFORE UPDATE OR DELETE ON approval_decisions
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
CREATE TRIGGER approval_decisions_no_truncate
    BEFORE TRUNCATE ON approval_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION keel_refuse_change();
