-- The server's archive: enrolled devices, the chains they upload, what was refused and why.
-- Clear columns are what the server compares and filters on (ids, sequence numbers, hashes,
-- times, OCSF class); everything else is sealed under the data key, which is not in here.

CREATE TABLE enroll_tokens (
    hash        BYTEA PRIMARY KEY,          -- SHA-256 of the token; the token itself is never stored
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT,
    used_by     TEXT
);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,          -- UUIDv7
    name_sealed  BYTEA NOT NULL,
    fingerprint  TEXT NOT NULL UNIQUE,      -- OpenSSH SHA256 fingerprint of the device key
    public_key   TEXT NOT NULL,             -- OpenSSH public key line
    enrolled_ms  BIGINT NOT NULL,
    last_seen_ms BIGINT,
    revoked_ms   BIGINT
);

-- Nonces of signed requests inside the freshness window; a second use is a replay.
CREATE TABLE nonces (
    device_id  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX nonces_expiry ON nonces (expires_ms);

-- One row per (device, scope): how far the server holds that chain, and the receipt it signed.
-- Ingest locks this row (SELECT … FOR UPDATE), so replicas racing on one chain take turns.
CREATE TABLE chains (
    device_id      TEXT NOT NULL REFERENCES devices (id),
    scope          TEXT NOT NULL,
    last_seq       BIGINT NOT NULL,
    last_hash      BYTEA NOT NULL,
    checkpoint     TEXT,
    receipt        TEXT,
    last_upload_ms BIGINT,
    PRIMARY KEY (device_id, scope)
);

CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction: the SIEM cursor is (xact, id), read only below the oldest open
    -- transaction, so rows committed out of id order are never skipped.
    xact         XID8 NOT NULL DEFAULT pg_current_xact_id(),
    device_id    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    hash         BYTEA NOT NULL,
    time_ms      BIGINT NOT NULL,
    class_uid    INTEGER NOT NULL,
    actor_id     TEXT NOT NULL,
    row_sealed   BYTEA NOT NULL,            -- the chain.jsonl line
    event_sealed BYTEA NOT NULL,            -- the OCSF event
    received_ms  BIGINT NOT NULL,
    UNIQUE (device_id, scope, seq)
);
CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_cursor ON events (xact, id);

-- Forks and rollbacks: kept whole, never applied, until an Admin looks at them.
CREATE TABLE quarantine (
    id             TEXT PRIMARY KEY,
    device_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('fork', 'rollback')),
    seq            BIGINT NOT NULL,          -- first seq where the segment differs from what is held
    first_seq      BIGINT NOT NULL,
    last_seq       BIGINT NOT NULL,
    segment_sealed BYTEA NOT NULL,
    received_ms    BIGINT NOT NULL
);

-- Every refused upload, with its stable code.
CREATE TABLE refusals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id  TEXT,
    scope      TEXT,
    code       TEXT NOT NULL,
    first_seq  BIGINT,
    last_seq   BIGINT,
    detail     TEXT NOT NULL,
    time_ms    BIGINT NOT NULL
);
