//! Fault injection: every operation family, with the Nth database write (and every write after
//! it) failing, leaves either its change and its audit event, or neither, and every chain
//! verifies.
//!
//! The faults are real SQLite failures, not a hook in the code under test: [`Injector::arm`]
//! installs a `BEFORE INSERT/UPDATE/DELETE` trigger on every table of one database file that
//! counts writes and raises an error from the Nth one on (a disk that stops taking writes). A
//! sweep first runs the operation with the counter armed but out of reach, to learn how many
//! writes it makes, then runs it once per N up to that count, on a fresh target each time
//! (another user, another credential name…), disarming the triggers after each attempt and
//! letting recovery run (a restart delivers intents a failure left between two databases).
//! After every attempt, for each (change, event) pair the family names, the number of changes
//! made and the number of events recorded must have moved by the same amount.

mod org;
mod workspace;

use std::future::Future;

use headmaster_core::access::{Role, Scope};
use headmaster_core::ids::WorkspaceId;
use headmaster_core::Session;
use sqlx::SqlitePool;

use super::common::Fixture;

/// Which database file the faults hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Instance,
    Workspace,
}

/// Failing triggers on every table of one database file.
pub struct Injector {
    pool: SqlitePool,
    tables: Vec<String>,
}

impl Injector {
    pub async fn on(pool: SqlitePool) -> Self {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name NOT IN ('_sqlx_migrations', 'fault_counter')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS fault_counter (n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        Self { pool, tables }
    }

    /// From the `n`th write on, every write to this database fails.
    pub async fn arm(&self, n: i64) {
        sqlx::query("DELETE FROM fault_counter")
            .execute(&self.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO fault_counter (n) VALUES (?)")
            .bind(n)
            .execute(&self.pool)
            .await
            .unwrap();
        for table in &self.tables {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                sqlx::query(&format!(
                    "CREATE TRIGGER zz_fault_{table}_{op} BEFORE {op} ON {table}
                     BEGIN
                         SELECT RAISE(ABORT, 'injected fault') WHERE (SELECT n FROM fault_counter) <= 1;
                         UPDATE fault_counter SET n = n - 1;
                     END"
                ))
                .execute(&self.pool)
                .await
                .unwrap();
            }
        }
    }

    /// Removes the triggers; returns how many writes were counted (committed ones only).
    pub async fn disarm(&self, armed_with: i64) -> i64 {
        for table in &self.tables {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                sqlx::query(&format!("DROP TRIGGER IF EXISTS zz_fault_{table}_{op}"))
                    .execute(&self.pool)
                    .await
                    .unwrap();
            }
        }
        let left: i64 = sqlx::query_scalar("SELECT n FROM fault_counter")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        armed_with - left
    }
}

/// A (change, event) pair of counters: what an operation changed and what it recorded.
pub type Counts = Vec<(&'static str, i64, i64)>;

/// An instance with an Admin, a second Approver, an Operator and the first workspace.
pub struct Team {
    pub fx: Fixture,
    pub admin: Session,
    pub approver: Session,
    pub bob: Session,
    pub ws: WorkspaceId,
    pub instance_db: SqlitePool,
    pub workspace_db: SqlitePool,
}

impl Team {
    pub async fn new() -> Self {
        let fx = Fixture::new().await;
        let admin = fx.admin().await;
        let ws = fx.first_workspace(&admin).await;
        let approver = fx.user(&admin, "carol", Role::Viewer).await;
        let bob = fx.user(&admin, "bob", Role::Viewer).await;
        fx.instance
            .add_member(&admin, ws, "carol", "approver")
            .await
            .unwrap();
        fx.instance
            .add_member(&admin, ws, "bob", "operator")
            .await
            .unwrap();
        let instance_db = fx.raw().await;
        let workspace_db = fx.raw_workspace(ws).await;
        Self {
            fx,
            admin,
            approver,
            bob,
            ws,
            instance_db,
            workspace_db,
        }
    }

    fn pool(&self, db: Db) -> SqlitePool {
        match db {
            Db::Instance => self.instance_db.clone(),
            Db::Workspace => self.workspace_db.clone(),
        }
    }

    /// A count over one database.
    pub async fn count(&self, db: Db, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool(db))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Events with `action` in a chain.
    pub async fn events(&self, db: Db, action: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = ?")
            .bind(action)
            .fetch_one(&self.pool(db))
            .await
            .unwrap()
    }

    /// Both chains verify.
    async fn assert_chains_verify(&self, context: &str) {
        let noop = |_: u64, _: u64| {};
        // A fresh session: some sweeps move the clock past session lifetimes.
        let admin = self.fx.admin().await;
        for scope in [Scope::Org, Scope::Workspace(self.ws)] {
            let outcome = self
                .fx
                .instance
                .verify_audit(&admin, scope, &noop)
                .await
                .unwrap();
            assert!(
                outcome.valid,
                "{context}: the {scope:?} chain does not verify: {:?}",
                outcome.breaks
            );
        }
    }

    /// Sweeps faults over `db` for `op`: attempt `i` gets target number `i` (every attempt
    /// needs a fresh one), which `prepare` sets up before the faults are armed. Returns how many
    /// attempts failed or left an intent pending (a sweep that never did is itself a failure).
    pub async fn sweep<Prep, PrepFut, Op, OpFut, Measure, MeasureFut>(
        &self,
        family: &str,
        db: Db,
        prepare: Prep,
        op: Op,
        measure: Measure,
    ) -> usize
    where
        Prep: Fn(usize) -> PrepFut,
        PrepFut: Future<Output = ()>,
        Op: Fn(usize) -> OpFut,
        OpFut: Future<Output = headmaster_core::Result<()>>,
        Measure: Fn() -> MeasureFut,
        MeasureFut: Future<Output = Counts>,
    {
        let injector = Injector::on(self.pool(db)).await;
        // A dry run counts the writes the operation makes.
        const OUT_OF_REACH: i64 = 1_000_000_000;
        prepare(0).await;
        let before = measure().await;
        injector.arm(OUT_OF_REACH).await;
        let dry = op(0).await;
        let writes = injector.disarm(OUT_OF_REACH).await;
        dry.unwrap_or_else(|e| panic!("{family}: the operation fails without faults: {e}"));
        self.check(family, "dry run", &before, &measure().await, true)
            .await;
        assert!(
            writes > 0,
            "{family}: the operation wrote nothing to {db:?}"
        );
        let mut failed = 0;
        for n in 1..=writes {
            prepare(n as usize).await;
            let before = measure().await;
            injector.arm(n).await;
            let result = op(n as usize).await;
            injector.disarm(n).await;
            // An operation that committed in the instance database and could not deliver its
            // intent to the workspace chain returns Ok and leaves the intent pending: that is
            // the fault reaching it.
            let pending = self.pending_intents().await;
            if result.is_err() || pending > 0 {
                failed += 1;
            }
            // A restart completes what a failure left between the two databases.
            drop(self.fx.reopen().await);
            assert_eq!(
                self.pending_intents().await,
                0,
                "{family}: recovery left intents undelivered"
            );
            let context = format!("write {n} of {writes} failing ({result:?})");
            self.check(family, &context, &before, &measure().await, false)
                .await;
        }
        assert!(
            failed > 0,
            "{family}: no fault over {db:?} made the operation fail ({writes} writes)"
        );
        failed
    }

    /// Intents committed in the instance database and not yet in their workspace chain.
    async fn pending_intents(&self) -> i64 {
        self.count(Db::Instance, "SELECT COUNT(*) FROM audit_intents")
            .await
    }

    async fn check(
        &self,
        family: &str,
        context: &str,
        before: &Counts,
        after: &Counts,
        done: bool,
    ) {
        for ((name, changes0, events0), (_, changes1, events1)) in before.iter().zip(after) {
            let changed = changes1 - changes0;
            let recorded = events1 - events0;
            assert_eq!(
                changed, recorded,
                "{family} / {name}, {context}: {changed} change(s) but {recorded} event(s)"
            );
            if done {
                assert!(
                    changed > 0,
                    "{family} / {name}: the dry run changed nothing"
                );
            }
        }
        self.assert_chains_verify(&format!("{family}, {context}"))
            .await;
    }
}
