-- The server's archive: enrolled devices, the chains they upload, what was refused and why.
-- Clear columns are what the server compares and filters on (ids, sequence numbers, hashes,
-- times, OCSF class); everything else is sealed under the data key, which is not in here.

CREATE TABLE enroll_tokens (
    hash        BLOB PRIMARY KEY,           -- SHA-256 of the token; the token itself is never stored
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER,
    used_by     TEXT
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,          -- UUIDv7
    name_sealed  BLOB NOT NULL,
    fingerprint  TEXT NOT NULL UNIQUE,      -- OpenSSH SHA256 fingerprint of the device key
    public_key   TEXT NOT NULL,             -- OpenSSH public key line
    enrolled_ms  INTEGER NOT NULL,
    last_seen_ms INTEGER,
    revoked_ms   INTEGER
);

-- Nonces of signed requests inside the freshness window; a second use is a replay.
CREATE TABLE nonces (
    device_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_expiry ON nonces (expires_ms);

-- One row per (device, scope): how far the server holds that chain, and the receipt it signed.
CREATE TABLE chains (
    device_id     TEXT NOT NULL REFERENCES devices (id),
    scope         TEXT NOT NULL,
    last_seq      INTEGER NOT NULL,
    last_hash     BLOB NOT NULL,
    checkpoint    TEXT,
    receipt       TEXT,
    last_upload_ms INTEGER,
    PRIMARY KEY (device_id, scope)
);

CREATE TABLE events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- the SIEM cursor: commit order, one writer
    device_id    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    hash         BLOB NOT NULL,
    time_ms      INTEGER NOT NULL,
    class_uid    INTEGER NOT NULL,
    actor_id     TEXT NOT NULL,
    row_sealed   BLOB NOT NULL,             -- the chain.jsonl line
    event_sealed BLOB NOT NULL,             -- the OCSF event
    received_ms  INTEGER NOT NULL,
    UNIQUE (device_id, scope, seq)
);
CREATE INDEX events_time ON events (time_ms);

-- Forks and rollbacks: kept whole, never applied, until an Admin looks at them.
CREATE TABLE quarantine (
    id             TEXT PRIMARY KEY,
    device_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('fork', 'rollback')),
    seq            INTEGER NOT NULL,         -- first seq where the segment differs from what is held
    first_seq      INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL,
    segment_sealed BLOB NOT NULL,
    received_ms    INTEGER NOT NULL
);

-- Every refused upload, with its stable code.
CREATE TABLE refusals (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id  TEXT,
    scope      TEXT,
    code       TEXT NOT NULL,
    first_seq  INTEGER,
    last_seq   INTEGER,
    detail     TEXT NOT NULL,
    time_ms    INTEGER NOT NULL
);
