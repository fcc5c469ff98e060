//! Sign-in, session resumption, sign-out and "who am I".
//!
//! Every outcome lands in the instance audit chain in the same transaction as the state change
//! it records (failure counter, lock, session row), so neither can happen without the other.
//! Unknown usernames and wrong passwords get the same answer and the same Argon2 cost.

use serde::Serialize;

use super::password::{decoy_hash, normalize_username, verify_password};
use super::session::{Session, SessionToken};
use super::users::{self, UserRecord};
use crate::access::RoleCapabilities;
use crate::access::{Role, Scope, WorkspaceSummary};
use crate::audit::{Actor, NewEvent, Outcome, Source};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::ids::{SessionId, UserId};
use crate::instance::Instance;
use crate::vault::keys::SecretBytes;

/// The result of a successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// The new session.
    pub session: Session,
    /// Its bearer token (the CLI stores it sealed; the desktop keeps only the session).
    pub token: SessionToken,
}

/// Who the signed-in person is, for the home screen and `headmaster whoami`.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct WhoAmI {
    /// User id.
    pub user_id: String,
    /// Username.
    pub username: String,
    /// Organisation role.
    pub org_role: String,
    /// Capabilities of the organisation role.
    pub org_capabilities: Vec<&'static str>,
    /// The organisation.
    pub org_name: String,
    /// Session expiry, RFC 3339.
    pub session_expires_at: String,
    /// The workspaces the user is a member of, with their role in each.
    pub workspaces: Vec<WorkspaceSummary>,
}

/// A user as listed to Admins.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct UserSummary {
    /// User id.
    pub id: String,
    /// Username (`[erased]` after erasure).
    pub username: String,
    /// Organisation role.
    pub org_role: String,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Whether the account is locked right now.
    pub locked: bool,
}

impl Instance {
    /// Signs a user in with username and password.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &SecretBytes,
        source: Source,
    ) -> Result<SignedIn> {
        let now = self.now();
        let normalized = normalize_username(username).ok();
        let user = match &normalized {
            Some(name) => {
                let mut conn = self.pool.acquire().await?;
                users::find_by_username(&self.vault, &mut conn, name).await?
            }
            None => None,
        };
        let Some(user) = user.filter(|u| u.erased_at.is_none()) else {
            let pass = SecretBytes::new(password.dangerously_expose().to_vec());
            let _ = tokio::task::spawn_blocking(move || verify_password(&pass, decoy_hash())).await;
            self.record(
                Scope::Org,
                NewEvent::new(
                    Actor::anonymous(),
                    "auth.sign_in_failed",
                    Outcome::Failed,
                    &source,
                )
                .payload(
                    serde_json::json!({ "reason": "unknown_user", "attempted_username": username }),
                ),
            )
            .await?;
            return Err(Error::AuthFailed {
                threshold: self.config.lockout_threshold,
                lock_ms: self.config.lockout_ms,
            });
        };
        let actor = Actor::user(user.id);
        if user.disabled_at.is_some() {
            self.record(
                Scope::Org,
                NewEvent::new(actor, "auth.sign_in_failed", Outcome::Denied, &source)
                    .target(user.id)
                    .payload(serde_json::json!({ "reason": "disabled" })),
            )
            .await?;
            return Err(Error::AccountDisabled);
        }
        if let Some(until) = user.locked_until.filter(|until| *until > now) {
            self.record(
                Scope::Org,
                NewEvent::new(actor, "auth.sign_in_failed", Outcome::Denied, &source)
                    .target(user.id)
                    .payload(serde_json::json!({ "reason": "locked", "locked_until": rfc3339_ms(until) })),
            )
            .await?;
            return Err(Error::AccountLocked {
                until: rfc3339_ms(until),
            });
        }
        let phc = users::password_hash(&self.vault, &user).await?;
        let pass = SecretBytes::new(password.dangerously_expose().to_vec());
        let ok = tokio::task::spawn_blocking(move || verify_password(&pass, &phc))
            .await
            .unwrap_or(false);
        if ok {
            self.complete_sign_in(user, source, now).await
        } else {
            self.record_failure(user, source, now).await
        }
    }

    async fn complete_sign_in(
        &self,
        user: UserRecord,
        source: Source,
        now: i64,
    ) -> Result<SignedIn> {
        let token = SessionToken::generate();
        let session_id = SessionId::new();
        let expires_at = now + self.config.session_ttl_ms;
        let event = NewEvent::new(Actor::user(user.id), "auth.sign_in", Outcome::Allowed, &source)
            .target(user.id)
            .payload(serde_json::json!({ "session_id": session_id.to_string(), "expires_at": rfc3339_ms(expires_at) }));
        let username = users::username(&self.vault, &user).await?;
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        sqlx::query("UPDATE users SET failed_count = 0, locked_until = NULL WHERE id = ?")
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, client, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(session_id.to_string())
        .bind(token.hash())
        .bind(user.id.to_string())
        .bind(&source.client)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(SignedIn {
            session: Session {
                id: session_id,
                user_id: user.id,
                username,
                org_role: user.org_role,
                expires_at,
                source,
            },
            token,
        })
    }

    async fn record_failure(&self, user: UserRecord, source: Source, now: i64) -> Result<SignedIn> {
        let threshold = self.config.lockout_threshold;
        let failures = user.failed_count + 1;
        let locks = failures >= threshold;
        let locked_until = now + self.config.lockout_ms;
        let actor = Actor::user(user.id);
        let failed = NewEvent::new(
            actor.clone(),
            "auth.sign_in_failed",
            Outcome::Failed,
            &source,
        )
        .target(user.id)
        .payload(
            serde_json::json!({ "reason": "wrong_password", "consecutive_failures": failures }),
        );
        let mut events = vec![failed];
        if locks {
            events.push(
                NewEvent::new(actor, "auth.locked_out", Outcome::Denied, &source)
                    .target(user.id)
                    .payload(serde_json::json!({ "locked_until": rfc3339_ms(locked_until), "failures": failures })),
            );
        }
        let mut tx = self.begin_change(Scope::Org, events).await?;
        if locks {
            sqlx::query("UPDATE users SET failed_count = 0, locked_until = ? WHERE id = ?")
                .bind(locked_until)
                .bind(user.id.to_string())
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE users SET failed_count = failed_count + 1 WHERE id = ?")
                .bind(user.id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if locks {
            Err(Error::AccountLocked {
                until: rfc3339_ms(locked_until),
            })
        } else {
            Err(Error::AuthFailed {
                threshold,
                lock_ms: self.config.lockout_ms,
            })
        }
    }

    /// Resumes a session from its bearer token (the CLI between invocations).
    pub async fn resume(&self, token: &SessionToken, source: Source) -> Result<Session> {
        let id = sqlx::query_scalar::<_, String>("SELECT id FROM sessions WHERE token_hash = ?")
            .bind(token.hash())
            .fetch_optional(&self.pool)
            .await?;
        let Some(id) = id else {
            return Err(Error::SessionExpired);
        };
        let id: SessionId = id.parse().map_err(|_| Error::SessionExpired)?;
        let state = self.session_state(id, &source).await?;
        let user = {
            let mut conn = self.pool.acquire().await?;
            users::find_by_id(&mut conn, state.user_id)
                .await?
                .ok_or(Error::SessionExpired)?
        };
        Ok(Session {
            id,
            user_id: state.user_id,
            username: users::username(&self.vault, &user).await?,
            org_role: state.org_role,
            expires_at: state.expires_at,
            source,
        })
    }

    /// Checks that a session is still live (not signed out, not expired, user enabled) and
    /// returns the user's current org role. Expiry is recorded once, when first noticed.
    pub(crate) async fn session_state(
        &self,
        id: SessionId,
        source: &Source,
    ) -> Result<SessionState> {
        let row = sqlx::query_as::<_, SessionRow>(
            "SELECT s.user_id, s.expires_at, s.ended_at, u.org_role, u.disabled_at, u.erased_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Err(Error::SessionExpired);
        };
        let SessionRow {
            user_id,
            expires_at,
            ended_at,
            org_role: role,
            disabled_at: disabled,
            erased_at: erased,
        } = row;
        let user_id: UserId = user_id.parse().map_err(|_| Error::SessionExpired)?;
        if ended_at.is_some() {
            return Err(Error::SessionExpired);
        }
        let now = self.now();
        if expires_at <= now || disabled.is_some() || erased.is_some() {
            self.end_session(id, user_id, "auth.session_expired", source, now)
                .await?;
            return Err(if disabled.is_some() {
                Error::AccountDisabled
            } else {
                Error::SessionExpired
            });
        }
        Ok(SessionState {
            user_id,
            org_role: Role::parse(&role).unwrap_or(Role::Viewer),
            expires_at,
        })
    }

    /// Ends a session (sign-out).
    pub async fn sign_out(&self, session: &Session) -> Result<()> {
        self.session_state(session.id, &session.source).await?;
        self.end_session(
            session.id,
            session.user_id,
            "auth.sign_out",
            &session.source,
            self.now(),
        )
        .await
    }

    async fn end_session(
        &self,
        id: SessionId,
        user: UserId,
        action: &str,
        source: &Source,
        now: i64,
    ) -> Result<()> {
        let event = NewEvent::new(Actor::user(user), action, Outcome::Allowed, source)
            .target(user)
            .payload(serde_json::json!({ "session_id": id.to_string() }));
        let mut tx = self.begin_change(Scope::Org, vec![event]).await?;
        let ended =
            sqlx::query("UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL")
                .bind(now)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        if ended.rows_affected() == 1 {
            tx.commit().await?;
        }
        // Otherwise the session had already ended: nothing changed, nothing to record.
        Ok(())
    }

    /// Who the session's user is, their roles and workspaces.
    pub async fn whoami(&self, session: &Session) -> Result<WhoAmI> {
        let state = self.session_state(session.id, &session.source).await?;
        Ok(WhoAmI {
            user_id: session.user_id.to_string(),
            username: session.username.clone(),
            org_role: state.org_role.title().to_string(),
            org_capabilities: state.org_role.capabilities().names(),
            org_name: self.org_name().await?,
            session_expires_at: rfc3339_ms(state.expires_at),
            workspaces: self.workspaces_of(session.user_id).await?,
        })
    }
}

/// What `session_state` reads.
#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: String,
    expires_at: i64,
    ended_at: Option<i64>,
    org_role: String,
    disabled_at: Option<i64>,
    erased_at: Option<i64>,
}

/// A live session's current facts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionState {
    pub user_id: UserId,
    pub org_role: Role,
    pub expires_at: i64,
}
