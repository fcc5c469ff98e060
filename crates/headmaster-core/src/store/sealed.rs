//! The registry of sealed columns that re-encryption walks.
//!
//! Every column holding values sealed under a scope's *data* key is listed here with the column
//! naming its row (the AAD's row id). Audit columns are not: audit rows are hashed as stored and
//! use the separate audit key series. Subject-sealed values (format 2) are skipped by the
//! re-encryption query itself. A test checks that every BLOB column of every table is either
//! listed here or explicitly exempt, so a new sealed column cannot be forgotten.

/// A column holding sealed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// The column whose value is the AAD row id.
    pub row_id: &'static str,
}

const fn col(table: &'static str, column: &'static str) -> SealedColumn {
    SealedColumn {
        table,
        column,
        row_id: "id",
    }
}

/// Sealed columns of the instance database (scope `instance`).
pub const INSTANCE_SEALED: &[SealedColumn] = &[
    col("instance", "org_name"),
    col("users", "username"),
    col("users", "password_hash"),
    col("workspaces", "name"),
    col("roles", "name"),
    col("audit_intents", "event"),
    col("server_link", "value"),
    col("sync_chains", "value"),
];

/// Sealed columns of a workspace database (scope = workspace id).
pub const WORKSPACE_SEALED: &[SealedColumn] = &[
    col("settings", "value"),
    col("credentials", "name"),
    col("credentials", "value"),
    col("memory", "key"),
    col("memory", "value"),
    col("drafts", "title"),
    col("drafts", "body"),
    col("approvals", "request"),
    col("approvals", "result"),
    col("approval_decisions", "comment"),
    col("grants", "spec"),
    col("agents", "name"),
    col("agents", "definition"),
    col("runs", "task"),
    col("runs", "state"),
    col("runs", "outcome"),
    col("run_steps", "body"),
];

/// BLOB columns that are not sealed data: hashes, blind indexes, wrapped keys (sealed under the
/// KEK, re-wrapped by KEK rotation), signatures, and audit rows (audit key series).
pub const NOT_DATA_SEALED: &[(&str, &str)] = &[
    ("instance", "kdf_salt"),
    ("instance", "kek_check"),
    ("wrapped_keys", "wrapped"),
    ("users", "username_idx"),
    ("sessions", "token_hash"),
    ("workspaces", "name_idx"),
    ("roles", "name_idx"),
    ("credentials", "name_idx"),
    ("memory", "key_idx"),
    ("agents", "name_idx"),
    ("audit_events", "source"),
    ("audit_events", "payload"),
    ("audit_events", "hash"),
    ("audit_checkpoints", "hash"),
    ("audit_checkpoints", "signature"),
    ("audit_segments", "sha256"),
    ("audit_segments", "last_hash"),
];
