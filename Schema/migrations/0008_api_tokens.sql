-- Bearer API tokens for people and automation (approvers, operators, admins). The token itself is shown
-- once, at creation; only the SHA-256 of its secret part is stored. A token reads `keel_<id>_<secret>`: the
-- id finds the row, the secret's hash is compared in constant time.

CREATE TABLE api_tokens (
    id           text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 128),
    role         text NOT NULL CHECK (role IN ('approver', 'operator', 'admin')),
    groups       text[] NOT NULL DEFAULT '{}',
    secret_hash  text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
