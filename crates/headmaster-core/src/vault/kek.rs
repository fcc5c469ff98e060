//! KEK rotation: every stored key re-wrapped under a new key-encryption key, in one transaction,
//! with the new KEK stored in the keychain first and the old entry deleted last, so a crash at
//! any point leaves a KEK that opens every wrapped key.

use super::keys::{Key256, SecretBytes};
use super::protect::{self, derive_kek, kek_check, KdfParams, MIN_PASSPHRASE_LEN};
use super::{Protection, VaultError};
use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::error::Result;
use crate::identity::Session;
use crate::instance::Instance;
use crate::store;

impl Instance {
    /// Re-wraps every stored key under a new KEK. In keychain mode the new KEK is random and
    /// replaces the old keychain entry; in passphrase mode it is derived from `new_passphrase`
    /// (or the current one) with a fresh salt.
    pub async fn rotate_kek(
        &self,
        session: &Session,
        new_passphrase: Option<SecretBytes>,
    ) -> Result<u32> {
        self.authorize(
            session,
            Scope::Org,
            Capability::OrgSecurity,
            "keys.rotate_kek",
        )
        .await?;
        let instance_id = self.id.to_string();
        let (old_version, old_kek) = self.vault.kek_snapshot().await;
        let new_version = old_version + 1;
        let (new_kek, kdf) = match self.protection {
            Protection::Keychain => {
                let kek = Key256::random();
                let copy = Key256::from_slice(kek.dangerously_expose()).expect("32 bytes");
                let kc = self.keychain.clone();
                let iid = instance_id.clone();
                tokio::task::spawn_blocking(move || kc.store(&iid, new_version, &copy))
                    .await
                    .map_err(|e| VaultError::KeychainUnavailable(e.to_string()))??;
                (kek, None)
            }
            Protection::Passphrase => {
                let passphrase = new_passphrase.ok_or(VaultError::PassphraseRequired)?;
                if String::from_utf8_lossy(passphrase.dangerously_expose())
                    .chars()
                    .count()
                    < MIN_PASSPHRASE_LEN
                {
                    return Err(VaultError::WeakPassphrase(MIN_PASSPHRASE_LEN).into());
                }
                let params = KdfParams::generate();
                let p2 = params.clone();
                let kek = tokio::task::spawn_blocking(move || derive_kek(&passphrase, &p2))
                    .await
                    .map_err(|e| VaultError::Corrupt(e.to_string()))??;
                (kek, Some(params))
            }
        };
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "key.kek_rotated",
            Outcome::Allowed,
            &session.source,
        )
        .payload(serde_json::json!({ "kek_version": new_version }));
        let now = self.now();
        let result: Result<()> = async {
            let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
            let rows: Vec<(String, String, i64, Vec<u8>)> =
                sqlx::query_as("SELECT scope, purpose, version, wrapped FROM wrapped_keys")
                    .fetch_all(&mut *tx)
                    .await?;
            for (scope, purpose, version, wrapped) in rows {
                let label = format!("{scope}/{purpose}/{version}");
                let key = protect::unwrap(&old_kek, &instance_id, &label, &wrapped)?;
                let rewrapped = protect::wrap(&new_kek, new_version, &instance_id, &label, &key);
                sqlx::query("UPDATE wrapped_keys SET wrapped = ?, kek_version = ? WHERE scope = ? AND purpose = ? AND version = ?")
                    .bind(rewrapped)
                    .bind(new_version as i64)
                    .bind(&scope)
                    .bind(&purpose)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE instance SET kek_version = ?, kek_check = ?, kek_rotated_at = ?,
                     kdf_salt = COALESCE(?, kdf_salt), kdf_m_kib = COALESCE(?, kdf_m_kib),
                     kdf_t = COALESCE(?, kdf_t), kdf_p = COALESCE(?, kdf_p)",
            )
            .bind(new_version as i64)
            .bind(kek_check(&new_kek, &instance_id, new_version))
            .bind(now)
            .bind(kdf.as_ref().map(|k| k.salt.clone()))
            .bind(kdf.as_ref().map(|k| k.m_kib as i64))
            .bind(kdf.as_ref().map(|k| k.t as i64))
            .bind(kdf.as_ref().map(|k| k.p as i64))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            if self.protection == Protection::Keychain {
                let kc = self.keychain.clone();
                let iid = instance_id.clone();
                let _ = tokio::task::spawn_blocking(move || kc.delete(&iid, new_version)).await;
            }
            return Err(e);
        }
        store::checkpoint_truncate(&self.pool).await?;
        self.vault.set_kek(new_version, new_kek).await;
        if self.protection == Protection::Keychain {
            let kc = self.keychain.clone();
            let _ = tokio::task::spawn_blocking(move || kc.delete(&instance_id, old_version)).await;
        }
        Ok(new_version)
    }
}
