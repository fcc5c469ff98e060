-- Audit events recorded by a change of the instance database for a workspace's chain
-- (membership, workspace key rotation). SQLite makes no transaction atomic across two database
-- files in WAL mode, so the event is written here, sealed, in the same transaction as the
-- change, and moved into the workspace chain afterwards (see audit/relay.rs). A row lives only
-- until its event is in the workspace chain.
CREATE TABLE audit_intents (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL,
    event         BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX audit_intents_workspace ON audit_intents(workspace_id, id);
