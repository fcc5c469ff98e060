-- Tools, credentials, memory, drafts, approvals and standing grants of one workspace. Free text,
-- arguments and results are sealed; ids, states, tiers and times stay clear for querying.

-- Sealed JSON settings: the policy (`policy`), tool configuration (`tool_config`), approval
-- expiry per tier (`approval_expiry`).
CREATE TABLE settings (
    id          TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    name_idx      BLOB NOT NULL UNIQUE,
    name          BLOB NOT NULL,
    value         BLOB NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);

CREATE TABLE memory (
    id          TEXT PRIMARY KEY,
    key_idx     BLOB NOT NULL UNIQUE,
    key         BLOB NOT NULL,
    value       BLOB NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE drafts (
    id          TEXT PRIMARY KEY,
    draft_key   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    run_id      TEXT,
    title       BLOB NOT NULL,
    body        BLOB NOT NULL,
    author      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (draft_key, version)
);

CREATE TABLE approvals (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed')),
    tier            TEXT NOT NULL,
    quorum          INTEGER NOT NULL,
    requester_kind  TEXT NOT NULL,
    requester_id    TEXT NOT NULL,
    on_behalf_of    TEXT NOT NULL,
    run_id          TEXT,
    step_id         TEXT,
    action          TEXT NOT NULL,
    args_hash       TEXT NOT NULL,
    request         BLOB NOT NULL,
    result          BLOB,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    executed_at     INTEGER
);
CREATE INDEX approvals_status ON approvals(status, created_at);

CREATE TABLE approval_decisions (
    id           TEXT PRIMARY KEY,
    approval_id  TEXT NOT NULL REFERENCES approvals(id),
    decider_id   TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment      BLOB,
    decided_at   INTEGER NOT NULL,
    UNIQUE (approval_id, decider_id)
);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    spec        BLOB NOT NULL,
    principal   TEXT NOT NULL,
    action      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    revoked_by  TEXT
);
