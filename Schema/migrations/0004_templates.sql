-- Templates: flows with declared parameters, published once and instantiated into ordinary draft flows.

CREATE TABLE flow_templates (
    name       text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,127}$'),
    version    integer NOT NULL CHECK (version > 0),
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    parameters jsonb NOT NULL DEFAULT '[]'::jsonb,   -- declared parameters: name, description, default
    definition jsonb NOT NULL,
    source     text NOT NULL,
    author     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version),
    UNIQUE (name, sha256)
);

CREATE TRIGGER flow_templates_immutable
    BEFORE UPDATE OR DELETE ON flow_templates
    FOR EACH ROW EXECUTE FUNCTION keel_refuse_change();
