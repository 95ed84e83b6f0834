-- keel: compatible
-- The operators' API on the approval-service (docs/api.md).
--
-- Runs keep their authenticated requester in a column, so runs can be listed by who asked for them.
-- A broker account marked acts_for_others (the approval-service's) may name the principal a trigger is
-- published for in its `keel-requester` header; trigger-intake believes that header from no one else.
-- Every action taken through the API, allowed or refused, is recorded with the token that asked.

ALTER TABLE runs ADD COLUMN requester text;
CREATE INDEX runs_by_requester ON runs (requester, id DESC) WHERE requester IS NOT NULL;

ALTER TABLE amqp_publishers ADD COLUMN acts_for_others boolean NOT NULL DEFAULT false;

CREATE TABLE api_actions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    principal  text NOT NULL,                          -- the token's name
    token_id   text NOT NULL,                          -- which token (never its secret)
    role       text NOT NULL,
    action     text NOT NULL,                          -- e.g. run.cancel, flow.release, token.create
    target     text NOT NULL,                          -- the run id, flow name or token name acted on
    outcome    text NOT NULL CHECK (outcome IN ('done', 'refused', 'forbidden')),
    detail     text,                                   -- the reason given, or why it was refused
    at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_actions_recent ON api_actions (at DESC);

CREATE TRIGGER api_actions_append_only
    BEFORE UPDATE OR DELETE ON api_actions
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
CREATE TRIGGER api_actions_no_truncate
    BEFORE TRUNCATE ON api_actions
    FOR EACH STATEMENT EXECUTE FUNCTION keel_refuse_change();
