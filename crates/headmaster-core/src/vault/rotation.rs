//! Re-encryption of sealed rows onto the current data-key version.
//!
//! Rows are read in batches of rows still sealed under an older version (the version sits in
//! bytes 2–5 of the sealed value, so SQLite can select them without decrypting anything),
//! re-sealed under the current version with the same AAD, and written back with a
//! compare-and-swap on the old ciphertext, one transaction per batch. A crash loses at most the
//! batch in flight; running again picks up exactly the rows still on old versions, so the work
//! is resumable and idempotent and never loses a row.

use std::collections::BTreeMap;

use sqlx::SqlitePool;

use super::seal::Aad;
use super::{Vault, VaultError};
use crate::store::sealed::SealedColumn;

/// Rows per re-encryption transaction.
pub const BATCH: i64 = 500;

/// Progress of a long key operation, reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows done.
    pub done: u64,
    /// Rows to do.
    pub total: u64,
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// Counts sealed rows per data-key version over `columns`.
pub async fn count_by_version(
    pool: &SqlitePool,
    columns: &[SealedColumn],
) -> Result<BTreeMap<u32, u64>, VaultError> {
    let mut counts = BTreeMap::new();
    for c in columns {
        let sql = format!(
            "SELECT substr({col}, 2, 4) AS v, COUNT(*) FROM {table}
             WHERE {col} IS NOT NULL AND substr({col}, 1, 1) = x'01' GROUP BY v",
            col = c.column,
            table = c.table
        );
        for (v, n) in sqlx::query_as::<_, (Vec<u8>, i64)>(&sql)
            .fetch_all(pool)
            .await?
        {
            if let Ok(bytes) = <[u8; 4]>::try_from(v.as_slice()) {
                *counts.entry(u32::from_be_bytes(bytes)).or_insert(0) += n as u64;
            }
        }
    }
    Ok(counts)
}

/// Re-encrypts every row of `columns` sealed under a data-key version below the scope's current
/// one. Returns the number of rows re-encrypted.
pub async fn reencrypt(
    vault: &Vault,
    pool: &SqlitePool,
    scope: &str,
    columns: &[SealedColumn],
    progress: ProgressFn<'_>,
) -> Result<u64, VaultError> {
    vault.forget_scope(scope).await;
    let target = vault.keys(scope).await?.current_version();
    let target_bytes = target.to_be_bytes().to_vec();
    let total: u64 = count_by_version(pool, columns)
        .await?
        .range(..target)
        .map(|(_, n)| n)
        .sum();
    let mut done = 0u64;
    progress(Progress { done, total });
    for c in columns {
        let select = format!(
            "SELECT {id}, {col} FROM {table}
             WHERE {id} > ? AND {col} IS NOT NULL AND substr({col}, 1, 1) = x'01' AND substr({col}, 2, 4) < ?
             ORDER BY {id} LIMIT ?",
            id = c.row_id,
            col = c.column,
            table = c.table
        );
        let update = format!(
            "UPDATE {table} SET {col} = ? WHERE {id} = ? AND {col} = ?",
            id = c.row_id,
            col = c.column,
            table = c.table
        );
        // Batches walk the table in id order from a cursor, so each row is read once per pass
        // (rescanning from the start for every batch would make the work quadratic). A row a
        // concurrent writer put back under an old version behind the cursor is picked up by the
        // next pass; the work ends with a pass that finds nothing.
        let mut cursor = String::new();
        let mut pass_found = 0u64;
        loop {
            let rows = sqlx::query_as::<_, (String, Vec<u8>)>(&select)
                .bind(&cursor)
                .bind(&target_bytes)
                .bind(BATCH)
                .fetch_all(pool)
                .await?;
            if rows.is_empty() {
                if pass_found == 0 {
                    break;
                }
                cursor.clear();
                pass_found = 0;
                continue;
            }
            pass_found += rows.len() as u64;
            cursor = rows.last().map(|(id, _)| id.clone()).unwrap_or_default();
            // Decrypt and re-seal before the write transaction: `keys` may touch the key store.
            let keys = vault.keys(scope).await?;
            if keys.current_version() != target {
                return Err(VaultError::Corrupt(format!(
                    "scope {scope} was rotated again (to version {}) while re-encrypting to {target}; run the rotation again",
                    keys.current_version()
                )));
            }
            let mut rewritten = Vec::with_capacity(rows.len());
            for (id, old) in rows {
                let aad = Aad::new(scope, c.table, c.column, &id);
                let plain = zeroize::Zeroizing::new(vault.open(&aad, &old).await?);
                let new = keys.seal_now(&aad, &plain)?;
                rewritten.push((id, old, new));
            }
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
            for (id, old, new) in &rewritten {
                sqlx::query(&update)
                    .bind(new)
                    .bind(id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done += rewritten.len() as u64;
            progress(Progress {
                done: done.min(total.max(done)),
                total: total.max(done),
            });
        }
    }
    Ok(done)
}
