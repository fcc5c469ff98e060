//! Workspace memory for people and agents, and choosing what goes into an agent's context.
//!
//! Relevance is keyword overlap with recency as the tie-break: the task is split into lowercase
//! words (three letters or more); each entry scores the number of distinct task words found in
//! its key and value; entries with a score go first, then the most recently updated; the
//! selection stops at the size budget. Simple, predictable, explainable to a reviewer.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::Row;

use crate::access::{Capability, Scope};
use crate::audit::{Actor, NewEvent, Outcome};
use crate::clock::rfc3339_ms;
use crate::error::{Error, Result};
use crate::identity::Session;
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::vault::seal::Aad;

/// A memory entry.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct MemoryEntry {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// `user:<id>` or `agent:<id>`.
    pub author: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl Instance {
    /// Every memory entry (newest first).
    pub async fn list_memory(
        &self,
        session: &Session,
        workspace: WorkspaceId,
    ) -> Result<Vec<MemoryEntry>> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::WorkspaceRead,
            "memory.list",
        )
        .await?;
        self.memory_entries(workspace).await
    }

    /// Writes a memory entry as a person.
    pub async fn write_memory(
        &self,
        session: &Session,
        workspace: WorkspaceId,
        key: &str,
        value: &str,
    ) -> Result<()> {
        self.authorize(
            session,
            Scope::Workspace(workspace),
            Capability::MemoryWrite,
            "memory.write",
        )
        .await?;
        if key.trim().is_empty() || key.len() > 200 || value.is_empty() || value.len() > 65_536 {
            return Err(Error::InvalidInput(
                "a memory key has 1–200 bytes and a value 1–65536 bytes".into(),
            ));
        }
        let event = NewEvent::new(
            Actor::user(session.user_id),
            "memory.written",
            Outcome::Allowed,
            &session.source,
        )
        .payload(serde_json::json!({ "key": key, "bytes": value.len() }));
        self.memory_put(
            workspace,
            key.trim(),
            value,
            &format!("user:{}", session.user_id),
            event,
        )
        .await
    }

    pub(crate) async fn memory_entries(&self, workspace: WorkspaceId) -> Result<Vec<MemoryEntry>> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let rows = sqlx::query(
            "SELECT id, key, value, author, updated_at FROM memory ORDER BY updated_at DESC",
        )
        .fetch_all(&pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.get(0);
            out.push(MemoryEntry {
                key: self
                    .vault
                    .open_string(
                        &Aad::new(&scope, "memory", "key", &id),
                        &row.get::<Vec<u8>, _>(1),
                    )
                    .await?,
                value: self
                    .vault
                    .open_string(
                        &Aad::new(&scope, "memory", "value", &id),
                        &row.get::<Vec<u8>, _>(2),
                    )
                    .await?,
                author: row.get(3),
                updated_at: rfc3339_ms(row.get(4)),
            });
        }
        Ok(out)
    }

    /// The memory an agent sees for `task`: entries under `prefix`, most relevant first, within
    /// `budget` bytes, as `key: value` lines.
    pub(crate) async fn relevant_memory(
        &self,
        workspace: WorkspaceId,
        prefix: &str,
        task: &str,
        budget: usize,
    ) -> Result<String> {
        let entries = self.memory_entries(workspace).await?;
        Ok(select_relevant(&entries, prefix, task, budget))
    }
}

/// Picks entries by keyword overlap, then recency, within a byte budget.
pub(crate) fn select_relevant(
    entries: &[MemoryEntry],
    prefix: &str,
    task: &str,
    budget: usize,
) -> String {
    let task_words: BTreeSet<String> = words(task);
    let mut scored: Vec<(usize, usize, &MemoryEntry)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.key.starts_with(prefix))
        .map(|(recency, e)| {
            let text = words(&format!("{} {}", e.key, e.value));
            (task_words.intersection(&text).count(), recency, e)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out = String::new();
    for (_, _, entry) in scored {
        let line = format!("{}: {}\n", entry.key, entry.value);
        if out.len() + line.len() > budget {
            continue;
        }
        out.push_str(&line);
    }
    out
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: &str) -> MemoryEntry {
        MemoryEntry {
            key: key.into(),
            value: value.into(),
            author: "user:x".into(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn relevant_entries_first_then_recent_within_budget() {
        // Newest first, as `memory_entries` returns them.
        let entries = vec![
            entry("lunch", "pizza on friday"),
            entry("client-acme", "Acme wants the quarterly report by Monday"),
            entry("client-globex", "Globex renewal in March"),
        ];
        let picked = select_relevant(&entries, "", "Write the Acme quarterly update", 1000);
        assert!(picked.starts_with("client-acme:"), "{picked}");
        assert!(
            picked.contains("lunch"),
            "recency fills the rest of the budget"
        );
        let small = select_relevant(&entries, "", "Write the Acme quarterly update", 60);
        assert_eq!(small.lines().count(), 1, "{small}");
        let scoped = select_relevant(&entries, "client-", "anything", 1000);
        assert!(!scoped.contains("lunch"));
    }
}
