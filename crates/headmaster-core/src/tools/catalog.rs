//! The workspace tool catalog: the actions of `headmaster-tools` (files, HTTP, email) plus the
//! ones the core runs itself (memory, drafts, the sandboxed shell). Every action is disabled
//! until an Admin enables it; the catalog only says what exists and what its arguments are.

use serde::Serialize;
use serde_json::{json, Value};

/// One action as the Tools screen and `headmaster tool list` show it.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogEntry {
    /// `tool.action`.
    pub name: String,
    /// Tool.
    pub tool: String,
    /// One sentence.
    pub summary: String,
    /// Whether it acts outside the workspace (never auto-executed).
    pub crosses_boundary: bool,
    /// Whether it changes state.
    pub mutating: bool,
    /// JSON Schema of its arguments.
    pub args_schema: Value,
}

/// Who runs an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Executor {
    /// `headmaster-tools`.
    External(headmaster_tools::Action),
    /// `memory.read`.
    MemoryRead,
    /// `memory.write`.
    MemoryWrite,
    /// `draft.save`.
    DraftSave,
    /// `shell.exec`.
    ShellExec,
}

/// Every action.
pub fn catalog() -> Vec<CatalogEntry> {
    let mut out: Vec<CatalogEntry> = headmaster_tools::catalog()
        .into_iter()
        .map(|spec| CatalogEntry {
            name: spec.name.to_string(),
            tool: spec.tool.to_string(),
            summary: spec.summary.to_string(),
            crosses_boundary: spec.crosses_boundary,
            mutating: spec.mutating,
            args_schema: spec.args_schema,
        })
        .collect();
    out.extend(core_entries());
    out
}

/// The executor of an action name, if the action exists.
pub(crate) fn executor(name: &str) -> Option<Executor> {
    if let Some(action) = headmaster_tools::Action::from_name(name) {
        return Some(Executor::External(action));
    }
    match name {
        "memory.read" => Some(Executor::MemoryRead),
        "memory.write" => Some(Executor::MemoryWrite),
        "draft.save" => Some(Executor::DraftSave),
        "shell.exec" => Some(Executor::ShellExec),
        _ => None,
    }
}

/// Whether an action crosses the trust boundary.
pub(crate) fn crosses_boundary(executor: Executor) -> bool {
    match executor {
        Executor::External(action) => action.crosses_boundary(),
        _ => false,
    }
}

fn string(max: usize, description: &str) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max, "description": description })
}

fn core_entries() -> Vec<CatalogEntry> {
    let entry = |name: &str, summary: &str, mutating: bool, schema: Value| CatalogEntry {
        name: name.to_string(),
        tool: name.split('.').next().unwrap_or(name).to_string(),
        summary: summary.to_string(),
        crosses_boundary: false,
        mutating,
        args_schema: schema,
    };
    vec![
        entry(
            "memory.read",
            "Read a workspace memory entry by key.",
            false,
            json!({ "type": "object", "additionalProperties": false, "required": ["key"],
                    "properties": { "key": string(200, "Entry key.") } }),
        ),
        entry(
            "memory.write",
            "Write (create or replace) a workspace memory entry.",
            true,
            json!({ "type": "object", "additionalProperties": false, "required": ["key", "value"],
                    "properties": { "key": string(200, "Entry key."), "value": string(65_536, "Text to remember.") } }),
        ),
        entry(
            "draft.save",
            "Save a draft for people to review; saving again under the same key adds a version.",
            true,
            json!({ "type": "object", "additionalProperties": false, "required": ["title", "body"],
                    "properties": { "title": string(200, "Title."), "body": string(1_048_576, "Content."),
                                    "key": string(100, "Draft key (versions of one draft share it).") } }),
        ),
        entry(
            "shell.exec",
            "Run a command line in the workspace files folder inside the sandbox (read-only system, no network unless configured, time and memory limits).",
            true,
            json!({ "type": "object", "additionalProperties": false, "required": ["command"],
                    "properties": { "command": string(8_192, "Command line, run with /bin/sh -c."),
                                    "cwd": { "type": "string", "maxLength": 1024, "description": "Working directory relative to the files folder." } } }),
        ),
    ]
}
