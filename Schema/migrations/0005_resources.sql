-- Resources: content stored once by SHA-256, and the metadata rows that name it (docs/resources.md).

-- One row per distinct content. `blob_id` names its chunks in resource_chunks when backend = 'postgres';
-- with backend = 'directory' the bytes are the file <dir>/sha256/<ab>/<sha256>.
CREATE TABLE resource_contents (
    sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size >= 0),
    backend    text NOT NULL CHECK (backend IN ('postgres', 'directory')),
    blob_id    uuid UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((backend = 'postgres') = (blob_id IS NOT NULL))
);

-- Bytes of the PostgreSQL backend, in chunks of at most 1 MiB, written under a fresh blob id while the
-- upload streams. A blob is reachable only once a resource_contents row points at it, which happens in
-- one transaction after its SHA-256 was verified: nothing partial is ever visible.
CREATE TABLE resource_chunks (
    blob_id uuid NOT NULL,
    seq     integer NOT NULL CHECK (seq >= 0),
    data    bytea NOT NULL,
    PRIMARY KEY (blob_id, seq)
);

-- Blobs being uploaded. A row left behind by a killed upload marks chunks that `keel resource gc` removes.
CREATE TABLE resource_uploads (
    blob_id    uuid PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now()
);

-- Named, described uses of content. Several may share one content. The producer has no foreign key:
-- a resource put from the CLI belongs to no run.
CREATE TABLE resources (
    id         uuid PRIMARY KEY,
    sha256     text NOT NULL REFERENCES resource_contents (sha256),
    name       text,
    media_type text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    run_id     uuid,
    step       text,
    attempt    integer CHECK (attempt > 0),
    retention  text NOT NULL DEFAULT 'standard' CHECK (retention IN ('standard', 'keep')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX resources_by_run ON resources (run_id, created_at) WHERE run_id IS NOT NULL;
CREATE INDEX resources_by_sha256 ON resources (sha256);
CREATE INDEX resources_unattached ON resources (created_at) WHERE run_id IS NULL;
