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
    secret_sealed   BYTEA,
    cursor          TEXT,
    delivered       BIGINT NOT NULL DEFAULT 0,
    dead_letters    BIGINT NOT NULL DEFAULT 0,
    failures        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_error_ms   BIGINT,
    last_success_ms BIGINT,
    lease_owner     TEXT,
    lease_until_ms  BIGINT,
    created_ms      BIGINT NOT NULL,
    removed_ms      BIGINT
);
-- Events a receiver refused for good: the feed moved past them, and here they are.
CREATE TABLE sink_dead_letters (
    id        BIGSERIAL PRIMARY KEY,
    sink_id   TEXT NOT NULL REFERENCES sinks (id),
    event_uid TEXT NOT NULL,
    reason    TEXT NOT NULL,
    time_ms   BIGINT NOT NULL
);
