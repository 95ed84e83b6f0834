-- Flows, their immutable versions, and every release and rollback.
-- A flow is named; each push of changed content adds a version numbered per flow and identified by the
-- SHA-256 of its canonical form. `live_version` is the release that live triggers run.

CREATE TABLE flows (
    name         text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,127}$'),
    description  text NOT NULL DEFAULT '',
    live_version integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flow_versions (
    flow       text NOT NULL REFERENCES flows (name),
    version    integer NOT NULL CHECK (version > 0),
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    definition jsonb NOT NULL,            -- the canonical form the hash is taken of
    source     text NOT NULL,             -- the YAML as the author pushed it
    author     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flow, version),
    UNIQUE (flow, sha256)
);

ALTER TABLE flows
    ADD CONSTRAINT flows_live_version_fkey
    FOREIGN KEY (name, live_version) REFERENCES flow_versions (flow, version);

-- Append-only record of who made which version live, when, and from what.
CREATE TABLE flow_releases (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow         text NOT NULL REFERENCES flows (name),
    from_version integer,
    to_version   integer NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('release', 'rollback')),
    actor        text NOT NULL,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (flow, to_version) REFERENCES flow_versions (flow, version)
);

CREATE INDEX flow_releases_by_flow ON flow_releases (flow, id DESC);

-- Tables whose rows are facts refuse UPDATE, DELETE and TRUNCATE, whatever the caller's role.
CREATE FUNCTION keel_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'keel: % is append-only; % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER flow_releases_append_only
    BEFORE UPDATE OR DELETE ON flow_releases
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
CREATE TRIGGER flow_releases_no_truncate
    BEFORE TRUNCATE ON flow_releases
    FOR EACH STATEMENT EXECUTE FUNCTION keel_refuse_change();

-- Versions are immutable snapshots.
CREATE TRIGGER flow_versions_immutable
    BEFORE UPDATE OR DELETE ON flow_versions
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
