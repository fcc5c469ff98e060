-- The instance database: installation settings, wrapped keys, users, sessions, the workspace
-- registry, memberships, custom roles and the instance audit chain. Free text and personal data
-- are stored sealed (see vault::seal); ids, enums and timestamps stay clear for querying.

CREATE TABLE instance (
    id              TEXT PRIMARY KEY,
    singleton       INTEGER NOT NULL UNIQUE DEFAULT 1 CHECK (singleton = 1),
    protection      TEXT NOT NULL CHECK (protection IN ('keychain', 'passphrase')),
    kdf_m_kib       INTEGER,
    kdf_t           INTEGER,
    kdf_p           INTEGER,
    kdf_salt        BLOB,
    kek_version     INTEGER NOT NULL,
    kek_check       BLOB NOT NULL,
    kek_rotated_at  INTEGER NOT NULL,
    org_name        BLOB NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every key of the installation except the KEK, wrapped by the KEK. A workspace's keys live here,
-- not beside its data, so a copied workspace file is unreadable on its own.
CREATE TABLE wrapped_keys (
    scope        TEXT NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('data', 'audit', 'index', 'device', 'subject')),
    version      INTEGER NOT NULL,
    wrapped      BLOB NOT NULL,
    kek_version  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER,
    encryptions  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, purpose, version)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username_idx   BLOB NOT NULL UNIQUE,
    username       BLOB NOT NULL,
    password_hash  BLOB NOT NULL,
    org_role       TEXT NOT NULL,
    failed_count   INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER,
    disabled_at    INTEGER,
    erased_at      INTEGER,
    created_at     INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id),
    client       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name_idx    BLOB NOT NULL UNIQUE,
    name        BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE roles (
    id            TEXT PRIMARY KEY,
    name_idx      BLOB NOT NULL UNIQUE,
    name          BLOB NOT NULL,
    capabilities  TEXT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    INTEGER NOT NULL
);

-- Data-key rotations: a row per rotation; re-encryption resumes from it after a crash.
CREATE TABLE key_rotations (
    id              TEXT PRIMARY KEY,
    scope           TEXT NOT NULL,
    target_version  INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    rows_done       INTEGER NOT NULL DEFAULT 0,
    reason          TEXT NOT NULL
);

CREATE TABLE memberships (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id),
    role          TEXT NOT NULL,
    added_by      TEXT NOT NULL,
    added_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);
