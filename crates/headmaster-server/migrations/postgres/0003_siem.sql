-- Read-only API tokens for the SIEM (scope `siem.read`): shown once, stored as their SHA-256.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    hash         BYTEA NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('siem.read')),
    name         TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    revoked_ms   BIGINT,
    last_used_ms BIGINT
);
CREATE INDEX events_scope ON events (scope, xact, id);
CREATE INDEX events_device ON events (device_id, xact, id);
