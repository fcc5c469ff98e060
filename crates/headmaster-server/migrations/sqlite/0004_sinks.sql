-- Push sinks: where the server forwards the SIEM feed (syslog over TLS, Splunk HEC), each with
-- its own cursor into the feed. The lease lets one replica at a time push a sink.
CREATE TABLE sinks (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('syslog', 'hec')),
    target          TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- PEM roots the receiver's certificate must chain to (NULL: the Mozilla roots).
    ca_pem          TEXT,
    -- The HEC token, sealed with the data key (NULL for syslog).
    secret_sealed   BLOB,
    cursor          TEXT,
    delivered       INTEGER NOT NULL DEFAULT 0,
    dead_letters    INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_error_ms   INTEGER,
    last_success_ms INTEGER,
    lease_owner     TEXT,
    lease_until_ms  INTEGER,
    created_ms      INTEGER NOT NULL,
    removed_ms      INTEGER
);
-- Events a receiver refused for good: the feed moved past them, and here they are.
CREATE TABLE sink_dead_letters (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    sink_id   TEXT NOT NULL REFERENCES sinks (id),
    event_uid TEXT NOT NULL,
    reason    TEXT NOT NULL,
    time_ms   INTEGER NOT NULL
);
