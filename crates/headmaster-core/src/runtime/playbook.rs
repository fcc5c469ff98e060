//! The playbook provider: an agent defined by a declarative TOML file of steps, running with no
//! model at all (the embedded default, fully offline).
//!
//! ```toml
//! name = "weekly-client-update"
//! tools = ["memory.read", "draft.save", "email.send"]
//! [limits]
//! max_steps = 10
//! [[steps]]
//! id = "notes"
//! tool = "memory.read"
//! args = { key = "client-notes" }
//! reasoning = "Load this week's notes."
//! [[steps]]
//! id = "send"
//! tool = "email.send"
//! args = { to = ["client@example.com"], subject = "Update", body = "{{steps.notes.output.value}}" }
//! on_rejected = "continue"
//! ```
//!
//! A step is exactly one of `tool` (with `args`), `delegate` (a sub-run), or `finish` (a
//! summary). `when` runs a step only if a condition on earlier results holds; `on_denied`,
//! `on_rejected` and `on_failed` say what happens when a tool step does not succeed: `stop`
//! (the default: the run fails with the reason), `continue`, or `goto:ID`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::template::{self, Scope};

/// A parsed, validated playbook.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Agent name.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Instructions (shown on the agent page; playbooks do not need them to run).
    #[serde(default)]
    pub instructions: Option<String>,
    /// Actions the agent may propose.
    pub tools: Vec<String>,
    /// Limits.
    #[serde(default)]
    pub limits: PlaybookLimits,
    /// Steps, in order.
    pub steps: Vec<Step>,
}

/// Limits of a playbook run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(deny_unknown_fields, default)]
pub struct PlaybookLimits {
    /// Most steps executed.
    pub max_steps: u32,
    /// Wall time, seconds.
    pub wall_seconds: u64,
}

impl Default for PlaybookLimits {
    fn default() -> Self {
        Self {
            max_steps: 50,
            wall_seconds: 24 * 3600,
        }
    }
}

/// One step.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique id, referenced as `{{steps.ID…}}`.
    pub id: String,
    /// `tool.action` to propose.
    #[serde(default)]
    pub tool: Option<String>,
    /// Its arguments (templates allowed).
    #[serde(default)]
    pub args: Option<Value>,
    /// Why, shown to reviewers.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// A sub-run.
    #[serde(default)]
    pub delegate: Option<Delegate>,
    /// End the run with this summary (templates allowed).
    #[serde(default)]
    pub finish: Option<String>,
    /// Run only when this holds.
    #[serde(default)]
    pub when: Option<Condition>,
    /// After a policy denial: stop, continue, goto:ID.
    #[serde(default)]
    pub on_denied: Option<String>,
    /// After a rejection by a person.
    #[serde(default)]
    pub on_rejected: Option<String>,
    /// After a tool failure.
    #[serde(default)]
    pub on_failed: Option<String>,
}

/// A delegation to another agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Delegate {
    /// Agent name.
    pub agent: String,
    /// Its task (templates allowed).
    pub task: String,
    /// Tools it may use: a subset of this agent's (never more).
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// Step budget.
    #[serde(default)]
    pub max_steps: Option<u32>,
}

/// A condition on earlier results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// `task`, `steps.ID.status`, `steps.ID.output.PATH`.
    pub path: String,
    /// Holds when the value equals this.
    #[serde(default)]
    pub equals: Option<Value>,
    /// Holds when the value differs from this.
    #[serde(default)]
    pub not_equals: Option<Value>,
    /// Holds when the value is present and not empty (true) / absent or empty (false).
    #[serde(default)]
    pub exists: Option<bool>,
}

/// What the playbook wants next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Next {
    /// Propose a tool call.
    Tool {
        step: String,
        action: String,
        args: Value,
        reasoning: Option<String>,
    },
    /// Start a sub-run.
    Delegate {
        step: String,
        delegate: Delegate,
        task: String,
    },
    /// Finish.
    Finish(String),
    /// Fail.
    Fail(String),
}

pub(crate) use crate::states::StepStatus;

/// A playbook that does not parse or validate, with the line and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("playbook line {line}: {reason}")]
pub struct PlaybookError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong and what to do.
    pub reason: String,
}

impl Playbook {
    /// Parses and validates playbook TOML.
    pub fn parse(text: &str) -> Result<Playbook, PlaybookError> {
        let playbook: Playbook = toml::from_str(text).map_err(|e| PlaybookError {
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            reason: e.message().to_string(),
        })?;
        playbook.validate(text)?;
        Ok(playbook)
    }

    fn validate(&self, text: &str) -> Result<(), PlaybookError> {
        let fail = |needle: &str, reason: String| PlaybookError {
            line: text.find(needle).map(|at| line_of(text, at)).unwrap_or(1),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(fail("name", "name must not be empty".into()));
        }
        if self.steps.is_empty() {
            return Err(fail(
                "[[steps]]",
                "a playbook needs at least one [[steps]] entry".into(),
            ));
        }
        for tool in &self.tools {
            if crate::tools::catalog::executor(tool).is_none() {
                return Err(fail(tool, format!("tools lists {tool:?}, which is not in the catalog (`headmaster tool list`)")));
            }
        }
        let ids: BTreeSet<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for step in &self.steps {
            let at = format!("\"{}\"", step.id);
            let fail = |reason: String| fail(&at, format!("step {:?}: {reason}", step.id));
            if step.id.is_empty()
                || !step
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(fail("ids use letters, digits, '_' and '-'".into()));
            }
            if !seen.insert(&step.id) {
                return Err(fail("the id is used twice".into()));
            }
            let kinds = [
                step.tool.is_some(),
                step.delegate.is_some(),
                step.finish.is_some(),
            ];
            if kinds.iter().filter(|k| **k).count() != 1 {
                return Err(fail("give exactly one of tool, delegate or finish".into()));
            }
            if let Some(tool) = &step.tool {
                if !self.tools.contains(tool) {
                    return Err(fail(format!(
                        "uses {tool:?}, which is not in this playbook's tools list"
                    )));
                }
                if step.args.as_ref().is_some_and(|a| !a.is_object()) {
                    return Err(fail("args must be a table".into()));
                }
            } else if step.args.is_some() {
                return Err(fail("args belong to tool steps".into()));
            }
            for outcome in [&step.on_denied, &step.on_rejected, &step.on_failed]
                .into_iter()
                .flatten()
            {
                match outcome.strip_prefix("goto:") {
                    Some(target) if ids.contains(target) => {}
                    Some(target) => {
                        return Err(fail(format!("goto target {target:?} is not a step id")))
                    }
                    None if outcome == "stop" || outcome == "continue" => {}
                    None => {
                        return Err(fail(format!(
                            "{outcome:?} is not stop, continue or goto:ID"
                        )))
                    }
                }
            }
            let mut texts: Vec<String> = Vec::new();
            collect_strings(step.args.as_ref().unwrap_or(&Value::Null), &mut texts);
            texts.extend(step.finish.clone());
            if let Some(d) = &step.delegate {
                texts.push(d.task.clone());
                if let Some(tools) = &d.tools {
                    if let Some(extra) = tools.iter().find(|t| !self.tools.contains(t)) {
                        return Err(fail(format!(
                            "delegates {extra:?}, which this playbook may not use itself"
                        )));
                    }
                }
            }
            if let Some(c) = &step.when {
                texts.push(format!("{{{{{}}}}}", c.path));
            }
            for text in &texts {
                for reference in template::references(text) {
                    let mut parts = reference.split('.');
                    match (parts.next(), parts.next()) {
                        (Some("task"), None) => {}
                        (Some("steps"), Some(id)) if seen.contains(id) && id != step.id => {}
                        (Some("steps"), Some(id)) => {
                            return Err(fail(format!(
                                "refers to step {id:?}, which does not run before it"
                            )))
                        }
                        _ => {
                            return Err(fail(format!(
                                "unknown reference {reference:?}; use task or steps.ID…"
                            )))
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// The playbook's progress, kept in the run's checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct PlaybookState {
    /// Index of the next step.
    pub next: usize,
    /// Results by step id: `{status, output, reason}`.
    pub results: BTreeMap<String, Value>,
}

impl Playbook {
    /// The next thing to do from `state`.
    pub(crate) fn next(&self, state: &mut PlaybookState, task: &str) -> Next {
        while let Some(step) = self.steps.get(state.next) {
            let scope = Scope {
                task,
                steps: &state.results,
            };
            if let Some(condition) = &step.when {
                if !holds(condition, &scope) {
                    state.next += 1;
                    continue;
                }
            }
            if let Some(summary) = &step.finish {
                return match template::render(&Value::String(summary.clone()), &scope) {
                    Ok(Value::String(s)) => Next::Finish(s),
                    Ok(other) => Next::Finish(other.to_string()),
                    Err(e) => Next::Fail(format!("step {:?}: {e}", step.id)),
                };
            }
            if let Some(delegate) = &step.delegate {
                return match template::render(&Value::String(delegate.task.clone()), &scope) {
                    Ok(task) => Next::Delegate {
                        step: step.id.clone(),
                        delegate: delegate.clone(),
                        task: task
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| task.to_string()),
                    },
                    Err(e) => Next::Fail(format!("step {:?}: {e}", step.id)),
                };
            }
            let args = step
                .args
                .clone()
                .unwrap_or(Value::Object(Default::default()));
            return match template::render(&args, &scope) {
                Ok(args) => Next::Tool {
                    step: step.id.clone(),
                    action: step.tool.clone().unwrap_or_default(),
                    args,
                    reasoning: step.reasoning.clone(),
                },
                Err(e) => Next::Fail(format!("step {:?}: {e}", step.id)),
            };
        }
        Next::Finish(format!("playbook {} completed", self.name))
    }

    /// Records a step's result and moves on; `Err` ends the run with the reason.
    pub(crate) fn record(
        &self,
        state: &mut PlaybookState,
        step_id: &str,
        status: StepStatus,
        output: Value,
        reason: Option<String>,
    ) -> Result<(), String> {
        state.results.insert(
            step_id.to_string(),
            serde_json::json!({ "status": status.as_str(), "output": output, "reason": reason }),
        );
        let index = self
            .steps
            .iter()
            .position(|s| s.id == step_id)
            .unwrap_or(state.next);
        let step = &self.steps[index];
        let policy = match status {
            StepStatus::Executed => None,
            StepStatus::Denied => Some(step.on_denied.as_deref().unwrap_or("stop")),
            StepStatus::Rejected => Some(step.on_rejected.as_deref().unwrap_or("stop")),
            StepStatus::Failed => Some(step.on_failed.as_deref().unwrap_or("stop")),
        };
        match policy {
            None | Some("continue") => state.next = index + 1,
            Some(goto) if goto.starts_with("goto:") => {
                let target = &goto[5..];
                state.next = self
                    .steps
                    .iter()
                    .position(|s| s.id == target)
                    .unwrap_or(self.steps.len());
            }
            Some(_) => {
                return Err(format!(
                    "step {step_id:?} was {}{}",
                    status.as_str(),
                    reason.map(|r| format!(": {r}")).unwrap_or_default()
                ))
            }
        }
        Ok(())
    }
}

fn holds(condition: &Condition, scope: &Scope<'_>) -> bool {
    let value = template::lookup(&condition.path, scope).unwrap_or(Value::Null);
    if let Some(expected) = &condition.equals {
        return &value == expected;
    }
    if let Some(unexpected) = &condition.not_equals {
        return &value != unexpected;
    }
    let present = match &value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    condition.exists.map(|e| e == present).unwrap_or(present)
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
tools = ["memory.read", "draft.save"]
[[steps]]
id = "notes"
tool = "memory.read"
args = { key = "k" }
on_failed = "continue"
[[steps]]
id = "draft"
tool = "draft.save"
args = { title = "For {{task}}", body = "{{steps.notes.output.value}}" }
when = { path = "steps.notes.status", equals = "executed" }
[[steps]]
id = "done"
finish = "drafted for {{task}}"
"#;

    #[test]
    fn walks_steps_with_results_conditions_and_outcomes() {
        let p = Playbook::parse(GOOD).unwrap();
        let mut state = PlaybookState::default();
        let Next::Tool {
            step, action, args, ..
        } = p.next(&mut state, "Acme")
        else {
            panic!()
        };
        assert_eq!((step.as_str(), action.as_str()), ("notes", "memory.read"));
        assert_eq!(args["key"], "k");
        p.record(
            &mut state,
            "notes",
            StepStatus::Failed,
            Value::Null,
            Some("no such key".into()),
        )
        .unwrap();
        // The draft step's condition does not hold after a failure: it is skipped.
        assert_eq!(
            p.next(&mut state, "Acme"),
            Next::Finish("drafted for Acme".into())
        );

        let mut state = PlaybookState::default();
        p.next(&mut state, "Acme");
        p.record(
            &mut state,
            "notes",
            StepStatus::Executed,
            serde_json::json!({ "value": "hello" }),
            None,
        )
        .unwrap();
        let Next::Tool { args, .. } = p.next(&mut state, "Acme") else {
            panic!()
        };
        assert_eq!(args["title"], "For Acme");
        assert_eq!(args["body"], "hello");
        let err = p
            .record(
                &mut state,
                "draft",
                StepStatus::Rejected,
                Value::Null,
                Some("not now".into()),
            )
            .unwrap_err();
        assert!(err.contains("rejected: not now"), "{err}");
    }

    #[test]
    fn syntax_and_schema_errors_name_the_line() {
        // toml 1 reports an unclosed array at the line that opens it (0.8 said the line after).
        let err = Playbook::parse("name = \"x\"\ntools = [\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err = Playbook::parse(
            "name = \"x\"\ntools = []\nbogus = 1\n[[steps]]\nid = \"a\"\nfinish = \"ok\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.reason.contains("bogus"), "{err}");
        let err = Playbook::parse(
            "name = \"x\"\ntools = []\n[[steps]]\nid = \"a\"\ntool = \"email.send\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 4, "{err}");
        assert!(err.reason.contains("not in this playbook's tools"), "{err}");
        let err = Playbook::parse(
            "name = \"x\"\ntools = [\"draft.save\"]\n[[steps]]\nid = \"a\"\ntool = \"draft.save\"\nargs = { title = \"{{steps.b.output}}\", body = \"x\" }\n[[steps]]\nid = \"b\"\nfinish = \"ok\"\n",
        )
        .unwrap_err();
        assert!(err.reason.contains("does not run before it"), "{err}");
        let err = Playbook::parse(
            "name = \"x\"\ntools = [\"nope.nope\"]\n[[steps]]\nid = \"a\"\nfinish = \"ok\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
    }
}
