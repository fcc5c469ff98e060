-- The audit chain of this database (see headmaster_protocol::chain). Rows are append-only: the
-- triggers refuse UPDATE, and refuse DELETE except for rows already moved into a sealed archive
-- segment (retention), which the segment table records first.

CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY,
    time         TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    approval_id  TEXT NOT NULL,
    source       BLOB NOT NULL,
    payload      BLOB NOT NULL,
    hash         BLOB NOT NULL
);
CREATE INDEX audit_events_time ON audit_events(time);
CREATE INDEX audit_events_actor ON audit_events(actor_id, time);
CREATE INDEX audit_events_action ON audit_events(action, time);
CREATE INDEX audit_events_run ON audit_events(run_id) WHERE run_id <> '';

CREATE TABLE audit_checkpoints (
    seq              INTEGER PRIMARY KEY,
    hash             BLOB NOT NULL,
    time             TEXT NOT NULL,
    key_fingerprint  TEXT NOT NULL,
    signature        BLOB NOT NULL
);

CREATE TABLE audit_segments (
    id          TEXT PRIMARY KEY,
    first_seq   INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL UNIQUE,
    file_name   TEXT NOT NULL,
    sha256      BLOB NOT NULL,
    last_hash   BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are immutable');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN OLD.seq > (SELECT COALESCE(MAX(last_seq), 0) FROM audit_segments)
BEGIN
    SELECT RAISE(ABORT, 'audit events are immutable until archived');
END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are immutable');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are immutable');
END;

CREATE TRIGGER audit_segments_no_update BEFORE UPDATE ON audit_segments
BEGIN
    SELECT RAISE(ABORT, 'audit segments are immutable');
END;

CREATE TRIGGER audit_segments_no_delete BEFORE DELETE ON audit_segments
BEGIN
    SELECT RAISE(ABORT, 'audit segments are immutable');
END;
