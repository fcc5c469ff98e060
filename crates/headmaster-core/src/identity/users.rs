//! User records in the instance database.
//!
//! The username is personal data: it is sealed under the user's own subject key (erasure makes
//! it unreadable) and found by equality through a blind index. The password hash is sealed under
//! the instance data key, so a stolen database file gives an attacker nothing to crack offline.

use sqlx::SqliteConnection;

use crate::access::Role;
use crate::error::{Error, Result};
use crate::identity::password::hash_password;
use crate::ids::UserId;
use crate::vault::keys::SecretBytes;
use crate::vault::seal::Aad;
use crate::vault::{Vault, VaultError, INSTANCE_SCOPE};

/// The blind-index field name of usernames.
pub(crate) const USERNAME_FIELD: &str = "users.username";

/// A user ready to insert (all sealing done outside the transaction).
#[derive(Debug)]
pub(crate) struct NewUser {
    id: UserId,
    username: String,
    username_idx: Vec<u8>,
    username_sealed: Vec<u8>,
    password_sealed: Vec<u8>,
    org_role: Role,
}

impl NewUser {
    /// Hashes the password and seals the fields. `username` must already be normalised.
    pub(crate) async fn prepare(
        vault: &Vault,
        id: UserId,
        username: &str,
        password: &SecretBytes,
        org_role: Role,
    ) -> Result<Self> {
        let pass = SecretBytes::new(password.dangerously_expose().to_vec());
        let phc = tokio::task::spawn_blocking(move || hash_password(&pass))
            .await
            .map_err(|e| Error::InvalidInput(format!("password hashing failed: {e}")))?;
        let row = id.to_string();
        Ok(Self {
            id,
            username: username.to_string(),
            username_idx: vault
                .blind_index(INSTANCE_SCOPE, USERNAME_FIELD, username)
                .await?,
            username_sealed: vault
                .seal_personal(
                    &row,
                    &Aad::new(INSTANCE_SCOPE, "users", "username", &row),
                    username.as_bytes(),
                )
                .await?,
            password_sealed: vault
                .seal(
                    &Aad::new(INSTANCE_SCOPE, "users", "password_hash", &row),
                    phc.as_bytes(),
                )
                .await?,
            org_role,
        })
    }

    /// Inserts the user; a taken username is [`Error::AlreadyExists`].
    pub(crate) async fn insert(self, conn: &mut SqliteConnection, now_ms: i64) -> Result<UserId> {
        let result = sqlx::query(
            "INSERT INTO users (id, username_idx, username, password_hash, org_role, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(self.id.to_string())
        .bind(&self.username_idx)
        .bind(&self.username_sealed)
        .bind(&self.password_sealed)
        .bind(self.org_role.name())
        .bind(now_ms)
        .execute(&mut *conn)
        .await;
        match result {
            Ok(_) => Ok(self.id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::AlreadyExists {
                kind: "user",
                name: self.username,
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// A stored user, with the sealed fields still sealed.
#[derive(Debug, Clone)]
pub(crate) struct UserRecord {
    pub id: UserId,
    pub org_role: Role,
    pub failed_count: u32,
    pub locked_until: Option<i64>,
    pub disabled_at: Option<i64>,
    pub erased_at: Option<i64>,
    pub username_sealed: Vec<u8>,
    pub password_sealed: Vec<u8>,
}

const USER_COLUMNS: &str =
    "id, org_role, failed_count, locked_until, disabled_at, erased_at, username, password_hash";

/// A `users` row as stored, in `USER_COLUMNS` order.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    org_role: Role,
    failed_count: i64,
    locked_until: Option<i64>,
    disabled_at: Option<i64>,
    erased_at: Option<i64>,
    username: Vec<u8>,
    password_hash: Vec<u8>,
}

fn record(row: UserRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row
            .id
            .parse()
            .map_err(|_| VaultError::Corrupt(format!("user id {} is not a UUID", row.id)))?,
        org_role: row.org_role,
        failed_count: row.failed_count.max(0) as u32,
        locked_until: row.locked_until,
        disabled_at: row.disabled_at,
        erased_at: row.erased_at,
        username_sealed: row.username,
        password_sealed: row.password_hash,
    })
}

/// Finds a user by (normalised) username.
pub(crate) async fn find_by_username(
    vault: &Vault,
    conn: &mut SqliteConnection,
    username: &str,
) -> Result<Option<UserRecord>> {
    let idx = vault
        .blind_index(INSTANCE_SCOPE, USERNAME_FIELD, username)
        .await?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username_idx = ?"
    ))
    .bind(idx)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(record).transpose()
}

/// Finds a user by id.
pub(crate) async fn find_by_id(
    conn: &mut SqliteConnection,
    id: UserId,
) -> Result<Option<UserRecord>> {
    let row: Option<UserRow> =
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(record).transpose()
}

/// All users, oldest first.
pub(crate) async fn all(conn: &mut SqliteConnection) -> Result<Vec<UserRecord>> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(record).collect()
}

impl crate::instance::Instance {
    /// Display names for many user ids with one query of the instance database: the username,
    /// `[erased]` once erased, and the id itself for anything that is not a readable user (an
    /// agent id, a deleted or damaged row). The rows are read before any is decrypted, so no
    /// connection is held while the vault opens names.
    pub(crate) async fn display_names<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut names: std::collections::HashMap<String, String> = ids
            .into_iter()
            .map(|id| (id.to_string(), id.to_string()))
            .collect();
        if names.is_empty() {
            return Ok(names);
        }
        let mut query =
            sqlx::QueryBuilder::new(format!("SELECT {USER_COLUMNS} FROM users WHERE id IN ("));
        let mut list = query.separated(", ");
        for id in names.keys() {
            list.push_bind(id.clone());
        }
        query.push(")");
        let rows: Vec<UserRow> = query.build_query_as().fetch_all(&self.pool).await?;
        for row in rows {
            // A row that cannot be read keeps its id as its name: one damaged user does not
            // hide every list that mentions people.
            let Ok(user) = record(row) else { continue };
            let name = username(&self.vault, &user)
                .await
                .unwrap_or_else(|_| ERASED.to_string());
            names.insert(user.id.to_string(), name);
        }
        Ok(names)
    }

    /// One user's display name (as `display_names`; the id when it cannot be read at all).
    pub(crate) async fn username_of(&self, user_id: &str) -> String {
        self.display_names([user_id])
            .await
            .ok()
            .and_then(|mut names| names.remove(user_id))
            .unwrap_or_else(|| user_id.to_string())
    }
}

/// Opens a user's username; `[erased]` once the user was erased.
pub(crate) async fn username(vault: &Vault, user: &UserRecord) -> Result<String> {
    let row = user.id.to_string();
    match vault
        .open_string(
            &Aad::new(INSTANCE_SCOPE, "users", "username", &row),
            &user.username_sealed,
        )
        .await
    {
        Ok(name) => Ok(name),
        Err(VaultError::Erased) => Ok(ERASED.to_string()),
        Err(e) => Err(e.into()),
    }
}

/// What erased personal data reads as.
pub const ERASED: &str = "[erased]";

/// Opens a user's password hash.
pub(crate) async fn password_hash(vault: &Vault, user: &UserRecord) -> Result<String> {
    let row = user.id.to_string();
    Ok(vault
        .open_string(
            &Aad::new(INSTANCE_SCOPE, "users", "password_hash", &row),
            &user.password_sealed,
        )
        .await?)
}
