-- Read-only API tokens for the SIEM (scope `siem.read`): shown once, stored as their SHA-256.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    hash         BLOB NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('siem.read')),
    name         TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    revoked_ms   INTEGER,
    last_used_ms INTEGER
);
CREATE INDEX events_scope ON events (scope, id);
CREATE INDEX events_device ON events (device_id, id);
