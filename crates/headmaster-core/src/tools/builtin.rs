//! The actions the core runs itself: `memory.read`, `memory.write`, `draft.save` (inside the
//! workspace, sealed by the vault) and `shell.exec` (in the sandbox).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::catalog::Executor;
use super::config::ToolConfig;
use crate::access::Scope;
use crate::audit::NewEvent;
use crate::error::{Error, Result};
use crate::ids::WorkspaceId;
use crate::instance::Instance;
use crate::store::body;
use crate::vault::seal::Aad;

const MEMORY_KEY_FIELD: &str = "memory.key";

/// Arguments of `memory.read`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryReadArgs {
    pub key: String,
}

/// Arguments of `memory.write`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemoryWriteArgs {
    pub key: String,
    pub value: String,
}

/// Arguments of `draft.save`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftSaveArgs {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub key: Option<String>,
}

/// Arguments of `shell.exec`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellArgs {
    pub command: String,
    #[serde(default)]
    pub cwd: Option<String>,
}

/// A parsed call of a core action.
#[derive(Debug, Clone)]
pub(crate) enum BuiltinCall {
    MemoryRead(MemoryReadArgs),
    MemoryWrite(MemoryWriteArgs),
    DraftSave(DraftSaveArgs),
    Shell(ShellArgs),
}

impl BuiltinCall {
    /// Whether the action only reads or writes this workspace's database, so that it can run in
    /// the same transaction as its audit events.
    pub(crate) fn is_database_only(&self) -> bool {
        !matches!(self, BuiltinCall::Shell(_))
    }
}

/// A database-only action with what touches the key store done, ready to apply inside a
/// transaction.
#[derive(Debug)]
pub(crate) enum Effect {
    /// `memory.read`: the value was read (and opened) beforehand.
    Read { key: String, value: Option<String> },
    /// `memory.write`: sealed inside the transaction, because the row id the seal binds is
    /// the existing entry's, read there (so two writers of a new key cannot both create it).
    MemoryWrite {
        scope: String,
        keys: std::sync::Arc<crate::vault::ScopeKeys>,
        key: String,
        key_idx: Vec<u8>,
        value: String,
        author: String,
    },
    /// `draft.save`.
    DraftSave {
        id: String,
        key: String,
        sealed_title: Vec<u8>,
        sealed_body: Vec<u8>,
        author: String,
        run_id: Option<String>,
    },
}

/// The result of `shell.exec`.
#[derive(Debug, Clone, Serialize)]
pub struct ShellResult {
    /// Exit code, if the command exited.
    pub exit_code: Option<i32>,
    /// Signal, if it was killed.
    pub signal: Option<i32>,
    /// Standard output (capped).
    pub stdout: String,
    /// Standard error (capped).
    pub stderr: String,
    /// Whether output was cut.
    pub truncated: bool,
    /// Why the sandbox killed it, if it did.
    pub killed_for: Option<String>,
    /// Milliseconds.
    pub duration_ms: u64,
    /// The sandbox applied.
    pub profile: String,
}

fn check_len(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.len() > max {
        return Err(Error::InvalidInput(format!(
            "argument {field}: must have 1 to {max} bytes (has {})",
            value.len()
        )));
    }
    Ok(())
}

/// Parses and validates the arguments of a core action.
pub(crate) fn parse(executor: Executor, args: &Value) -> Result<BuiltinCall> {
    let invalid = |e: serde_json::Error| {
        Error::InvalidInput(format!("arguments do not match the schema: {e}"))
    };
    let call = match executor {
        Executor::MemoryRead => {
            let a: MemoryReadArgs = serde_json::from_value(args.clone()).map_err(invalid)?;
            check_len("key", &a.key, 200)?;
            BuiltinCall::MemoryRead(a)
        }
        Executor::MemoryWrite => {
            let a: MemoryWriteArgs = serde_json::from_value(args.clone()).map_err(invalid)?;
            check_len("key", &a.key, 200)?;
            check_len("value", &a.value, 65_536)?;
            BuiltinCall::MemoryWrite(a)
        }
        Executor::DraftSave => {
            let a: DraftSaveArgs = serde_json::from_value(args.clone()).map_err(invalid)?;
            check_len("title", &a.title, 200)?;
            check_len("body", &a.body, 1_048_576)?;
            if let Some(key) = &a.key {
                check_len("key", key, 100)?;
            }
            BuiltinCall::DraftSave(a)
        }
        Executor::ShellExec => {
            let a: ShellArgs = serde_json::from_value(args.clone()).map_err(invalid)?;
            check_len("command", &a.command, 8_192)?;
            if !headmaster_tools::references(args).is_empty() {
                return Err(Error::InvalidInput(
                    "argument command: credential references are not allowed in shell commands"
                        .into(),
                ));
            }
            if let Some(cwd) = &a.cwd {
                if cwd.starts_with('/') || cwd.split('/').any(|c| c == "..") {
                    return Err(Error::InvalidInput(format!(
                        "argument cwd: {cwd:?} must be a relative path inside the workspace files folder, without '..'"
                    )));
                }
            }
            BuiltinCall::Shell(a)
        }
        Executor::External(_) => unreachable!("external actions are parsed by headmaster-tools"),
    };
    Ok(call)
}

impl Instance {
    /// What a reviewer sees for a core action.
    pub(crate) fn builtin_affected(
        &self,
        workspace: WorkspaceId,
        call: &BuiltinCall,
        config: &ToolConfig,
    ) -> Value {
        let preview = |text: &str| text.chars().take(500).collect::<String>();
        match call {
            BuiltinCall::MemoryRead(a) => json!({ "kind": "memory_read", "key": a.key }),
            BuiltinCall::MemoryWrite(a) => {
                json!({ "kind": "memory_write", "key": a.key, "value_preview": preview(&a.value) })
            }
            BuiltinCall::DraftSave(a) => {
                json!({ "kind": "draft", "title": a.title, "body_preview": preview(&a.body) })
            }
            BuiltinCall::Shell(a) => {
                let dir = self.layout.workspace_files(workspace);
                json!({
                    "kind": "shell",
                    "command": a.command,
                    "cwd": a.cwd.clone().unwrap_or_default(),
                    "sandbox": config.shell.sandbox(&dir).describe(),
                })
            }
        }
    }

    /// Runs a shell command line in the sandbox.
    pub(crate) async fn run_shell(
        &self,
        workspace: WorkspaceId,
        args: &ShellArgs,
        config: &ToolConfig,
    ) -> Result<Value> {
        let failed = |code: &str, message: String| Error::ToolFailed {
            action: "shell.exec".into(),
            code: code.into(),
            message,
        };
        if let Some(reason) = headmaster_sandbox::probe().refusal() {
            return Err(failed("sandbox_unavailable", reason));
        }
        let dir = self.layout.workspace_files(workspace);
        std::fs::create_dir_all(&dir).map_err(|e| failed("workspace", e.to_string()))?;
        let sandbox = config.shell.sandbox(&dir);
        let spec = headmaster_sandbox::CommandSpec::new(args.command.clone())
            .in_dir(args.cwd.clone().unwrap_or_default());
        let outcome = tokio::task::spawn_blocking(move || headmaster_sandbox::run(&sandbox, &spec))
            .await
            .map_err(|e| failed("sandbox", e.to_string()))?
            .map_err(|e| failed("sandbox", e.to_string()))?;
        let (exit_code, signal) = match outcome.exit {
            headmaster_sandbox::Exit::Code(c) => (Some(c), None),
            headmaster_sandbox::Exit::Signal(s) => (None, Some(s)),
        };
        let result = ShellResult {
            exit_code,
            signal,
            truncated: outcome.stdout.truncated || outcome.stderr.truncated,
            stdout: outcome.stdout.text().to_string(),
            stderr: outcome.stderr.text().to_string(),
            killed_for: outcome.killed_for.map(|k| format!("{k:?}").to_lowercase()),
            duration_ms: outcome.duration.as_millis() as u64,
            profile: outcome.profile,
        };
        Ok(body::to_value("output of", "shell.exec", result)?)
    }

    /// Seals what a database-only action will write (touching the key store as needed), so
    /// that applying it needs nothing but the transaction.
    pub(crate) async fn prepare_builtin(
        &self,
        workspace: WorkspaceId,
        call: &BuiltinCall,
        author: &str,
        run_id: Option<&str>,
    ) -> Result<Effect> {
        let scope = workspace.to_string();
        match call {
            BuiltinCall::MemoryRead(a) => Ok(Effect::Read {
                key: a.key.clone(),
                value: self.memory_get(workspace, &a.key).await?,
            }),
            BuiltinCall::MemoryWrite(a) => Ok(Effect::MemoryWrite {
                key_idx: self
                    .vault
                    .blind_index(&scope, MEMORY_KEY_FIELD, &a.key)
                    .await?,
                keys: self.vault.keys(&scope).await?,
                scope,
                key: a.key.clone(),
                value: a.value.clone(),
                author: author.to_string(),
            }),
            BuiltinCall::DraftSave(a) => {
                let id = uuid::Uuid::now_v7().to_string();
                Ok(Effect::DraftSave {
                    sealed_title: self
                        .vault
                        .seal(
                            &Aad::new(&scope, "drafts", "title", &id),
                            a.title.as_bytes(),
                        )
                        .await?,
                    sealed_body: self
                        .vault
                        .seal(&Aad::new(&scope, "drafts", "body", &id), a.body.as_bytes())
                        .await?,
                    id,
                    key: a
                        .key
                        .clone()
                        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
                    author: author.to_string(),
                    run_id: run_id.map(str::to_string),
                })
            }
            BuiltinCall::Shell(_) => Err(Error::InvalidInput(
                "shell.exec is not a database action".into(),
            )),
        }
    }

    /// Applies a prepared action inside the caller's transaction; returns the tool's output.
    pub(crate) async fn apply_builtin(
        &self,
        conn: &mut SqliteConnection,
        effect: Effect,
    ) -> Result<Value> {
        let now = self.now();
        match effect {
            Effect::Read { key, value } => match value {
                Some(value) => Ok(json!({ "key": key, "value": value })),
                None => Err(Error::ToolFailed {
                    action: "memory.read".into(),
                    code: "not_found".into(),
                    message: format!("no memory entry named {key:?}"),
                }),
            },
            Effect::MemoryWrite {
                scope,
                keys,
                key,
                key_idx,
                value,
                author,
            } => {
                let existing: Option<String> =
                    sqlx::query_scalar("SELECT id FROM memory WHERE key_idx = ?")
                        .bind(&key_idx)
                        .fetch_optional(&mut *conn)
                        .await?;
                let id = existing.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
                // The keys were loaded before the transaction: sealing here writes nothing.
                let sealed_key =
                    keys.seal_now(&Aad::new(&scope, "memory", "key", &id), key.as_bytes())?;
                let sealed_value =
                    keys.seal_now(&Aad::new(&scope, "memory", "value", &id), value.as_bytes())?;
                sqlx::query(
                    "INSERT INTO memory (id, key_idx, key, value, author, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (id) DO UPDATE SET value = excluded.value, author = excluded.author, updated_at = excluded.updated_at",
                )
                .bind(&id)
                .bind(&key_idx)
                .bind(&sealed_key)
                .bind(&sealed_value)
                .bind(&author)
                .bind(now)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(json!({ "key": key, "written": true }))
            }
            Effect::DraftSave {
                id,
                key,
                sealed_title,
                sealed_body,
                author,
                run_id,
            } => {
                let version: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM drafts WHERE draft_key = ?",
                )
                .bind(&key)
                .fetch_one(&mut *conn)
                .await?;
                sqlx::query(
                    "INSERT INTO drafts (id, draft_key, version, run_id, title, body, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(&key)
                .bind(version)
                .bind(&run_id)
                .bind(&sealed_title)
                .bind(&sealed_body)
                .bind(&author)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                Ok(json!({ "draft_id": id, "key": key, "version": version }))
            }
        }
    }

    /// A memory entry's value.
    pub(crate) async fn memory_get(
        &self,
        workspace: WorkspaceId,
        key: &str,
    ) -> Result<Option<String>> {
        let pool = self.workspace_pool(workspace).await?;
        let scope = workspace.to_string();
        let idx = self
            .vault
            .blind_index(&scope, MEMORY_KEY_FIELD, key)
            .await?;
        let row = sqlx::query_as::<_, (String, Vec<u8>)>(
            "SELECT id, value FROM memory WHERE key_idx = ?",
        )
        .bind(idx)
        .fetch_optional(&pool)
        .await?;
        match row {
            Some((id, sealed)) => Ok(Some(
                self.vault
                    .open_string(&Aad::new(&scope, "memory", "value", &id), &sealed)
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// Creates or replaces a memory entry (a person writing memory).
    pub(crate) async fn memory_put(
        &self,
        workspace: WorkspaceId,
        key: &str,
        value: &str,
        author: &str,
        event: NewEvent,
    ) -> Result<()> {
        let call = BuiltinCall::MemoryWrite(MemoryWriteArgs {
            key: key.to_string(),
            value: value.to_string(),
        });
        let effect = self.prepare_builtin(workspace, &call, author, None).await?;
        let mut tx = self
            .begin_change(Scope::Workspace(workspace), vec![event])
            .await?;
        self.apply_builtin(&mut tx, effect).await?;
        tx.commit().await
    }
}
