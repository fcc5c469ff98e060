//! A change and the audit events that record it, committed together.
//!
//! This is the only way an audit event is written. [`Instance::begin_change`] opens a write
//! transaction (`BEGIN IMMEDIATE`) on the database that holds the change, with the events that
//! record it already prepared: preparing gathers sealing keys and may write to the instance
//! database (key loading, encryption budgets), so it happens before any instance transaction
//! is opened. The caller runs its statements on the [`Change`], which dereferences to the
//! connection; [`Change::commit`] appends the events after them and commits both. Dropping a
//! `Change` uncommitted rolls everything back, so "the audit row could not be written" and
//! "the change did not happen" are the same outcome.
//!
//! Three shapes:
//! - a change in one database recorded in that database's chain (most operations);
//! - an event that records no change of state — a refusal, a failed attempt, a read such as
//!   an export — through [`Instance::record`], a transaction holding only the event;
//! - a change of the instance database recorded in a workspace's chain (membership, workspace
//!   key rotation): [`Instance::begin_change_relaying`] writes the workspace event as a sealed
//!   intent inside the instance transaction, and [`Change::commit`] then delivers it (see
//!   `relay`).
//!
//! Lock order: a workspace transaction may prepare events (which may write the instance
//! database), but an instance transaction never touches a workspace database. Nothing holds the
//! instance write lock while waiting for a workspace's, so two processes cannot deadlock.

use sqlx::{Sqlite, SqliteConnection, Transaction};

use super::append::{self, ChainTip, Prepared};
use super::relay::Intent;
use super::{AuditError, NewEvent};
use crate::access::Scope;
use crate::error::Result;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::vault::INSTANCE_SCOPE;

/// A write transaction with the audit events that will commit with it.
pub(crate) struct Change<'i> {
    instance: &'i Instance,
    db: Scope,
    scope: String,
    tx: Transaction<'static, Sqlite>,
    events: Vec<Prepared>,
    intents: Vec<Intent>,
    tip: Option<ChainTip>,
}

impl std::fmt::Debug for Change<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Change")
            .field("db", &self.db)
            .field("events", &self.events.len())
            .field("intents", &self.intents.len())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Change<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Change<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

/// The chain scope string of a database: `instance` or the workspace id.
pub(crate) fn scope_name(db: Scope) -> String {
    match db {
        Scope::Org => INSTANCE_SCOPE.to_string(),
        Scope::Workspace(w) => w.to_string(),
    }
}

impl Instance {
    /// Prepares `events` for `db`'s own chain and opens a write transaction on `db`.
    pub(crate) async fn begin_change(
        &self,
        db: Scope,
        events: Vec<NewEvent>,
    ) -> Result<Change<'_>> {
        self.begin(db, events, Vec::new()).await
    }

    /// Like [`begin_change`](Self::begin_change) on the instance database, with events for
    /// workspace chains that are delivered after the commit (sealed intents until then).
    pub(crate) async fn begin_change_relaying(
        &self,
        events: Vec<NewEvent>,
        relayed: Vec<(WorkspaceId, NewEvent)>,
    ) -> Result<Change<'_>> {
        let mut intents = Vec::with_capacity(relayed.len());
        for (workspace, event) in relayed {
            intents.push(Intent::seal(&self.vault, workspace, &event, self.now()).await?);
        }
        self.begin(Scope::Org, events, intents).await
    }

    /// Records an event that describes no change of state (a refusal, a failed attempt, an
    /// export): one transaction that holds only the event.
    pub(crate) async fn record(&self, scope: Scope, event: NewEvent) -> Result<()> {
        self.begin_change(scope, vec![event]).await?.commit().await
    }

    async fn begin(
        &self,
        db: Scope,
        events: Vec<NewEvent>,
        intents: Vec<Intent>,
    ) -> Result<Change<'_>> {
        let scope = scope_name(db);
        let mut prepared = Vec::with_capacity(events.len());
        for event in events {
            prepared.push(append::prepare(&self.vault, &scope, event).await?);
        }
        let pool = match db {
            Scope::Org => self.pool.clone(),
            Scope::Workspace(w) => self.workspace_pool(w).await?,
        };
        let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Change {
            instance: self,
            db,
            scope,
            tx,
            events: prepared,
            intents,
            tip: None,
        })
    }
}

impl Change<'_> {
    /// Adds an event decided inside the transaction (its content depends on what the
    /// statements found). Only for workspace databases: preparing may write the instance
    /// database, which an instance transaction already holds.
    pub(crate) async fn record(&mut self, event: NewEvent) -> Result<()> {
        if self.db == Scope::Org {
            return Err(AuditError::Invalid(
                "an instance change's events must be prepared before it begins".into(),
            )
            .into());
        }
        let prepared = append::prepare(&self.instance.vault, &self.scope, event).await?;
        self.events.push(prepared);
        Ok(())
    }

    /// The change time of the workspace's stored policy (0 if never changed), read with the
    /// chain's tip in one statement so that a decision taken under a cached policy is checked
    /// inside the transaction at no extra cost.
    pub(crate) async fn policy_time(&mut self) -> Result<i64> {
        let (tip, time) = ChainTip::load_with_policy_time(&mut self.tx, &self.scope).await?;
        self.tip = Some(tip);
        Ok(time)
    }

    /// Appends the events after the change's statements and commits both; then delivers the
    /// relayed events to their workspace chains (a failure there leaves the intent for the
    /// next delivery pass: the change and its record are already durable together).
    pub(crate) async fn commit(mut self) -> Result<()> {
        let now = self.instance.now();
        if !self.events.is_empty() {
            let mut tip = match self.tip.take() {
                Some(tip) => tip,
                None => ChainTip::load(&mut self.tx, &self.scope).await?,
            };
            let events = std::mem::take(&mut self.events);
            tip.write_all(
                &mut self.tx,
                &self.scope,
                &self.instance.device,
                events,
                now,
            )
            .await?;
        }
        for intent in &self.intents {
            intent.insert(&mut self.tx).await?;
        }
        self.tx.commit().await.map_err(AuditError::from)?;
        if !self.intents.is_empty() {
            if let Err(e) = self.instance.deliver_intents().await {
                tracing::warn!(
                    error = %e,
                    "audit events for a workspace chain wait in the instance database; they are delivered at the next start or maintenance pass"
                );
            }
        }
        Ok(())
    }
}
