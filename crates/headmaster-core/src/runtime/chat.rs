//! The OpenAI-compatible provider: chat completions with tool calling, as served by Ollama,
//! llama.cpp server, vLLM and OpenAI.
//!
//! Each step sends the conversation so far with the agent's tools as functions (names with the
//! dot replaced by `__`, since function names may not contain dots) and reads back either tool
//! calls or a final answer. Rate limits (429) and server errors are retried with exponential
//! backoff (honouring `Retry-After`), timeouts too; a tool call whose arguments are not JSON,
//! or that names an unknown function, is answered with an error observation so the model can
//! correct itself; a refusal ends the run with the model's words.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::playbook::{Next, StepStatus};

/// Retries of one request (after the first attempt).
const RETRIES: u32 = 4;

/// The conversation, kept in the run's checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct ChatState {
    pub messages: Vec<Value>,
    /// Tool calls of the last answer not yet handled: (id, action, arguments or parse error).
    pub queue: Vec<(String, String, Result<Value, String>)>,
    pub tokens: u64,
}

/// Connection settings of one agent.
#[derive(Debug, Clone)]
pub(crate) struct ChatEndpoint {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout: Duration,
    /// Backoff before the first retry (doubled each time); tests shorten it.
    pub backoff: Duration,
}

impl ChatState {
    /// Starts a conversation.
    pub(crate) fn new(instructions: &str, task: &str, memory: &str) -> Self {
        let mut system = instructions.to_string();
        if !memory.is_empty() {
            system.push_str("\n\nRelevant workspace memory:\n");
            system.push_str(memory);
        }
        system.push_str(
            "\n\nYou act inside a workspace through the tools given. Actions that leave the workspace wait \
             for human approval; a rejection comes back as the tool's result. Answer with a final message \
             (no tool call) when the task is done.",
        );
        Self {
            messages: vec![
                json!({ "role": "system", "content": system }),
                json!({ "role": "user", "content": task }),
            ],
            queue: Vec::new(),
            tokens: 0,
        }
    }

    /// Records the result of the tool call `id` for the model to read.
    pub(crate) fn record(
        &mut self,
        id: &str,
        status: StepStatus,
        output: &Value,
        reason: Option<&str>,
    ) {
        let content =
            json!({ "status": status.as_str(), "output": output, "reason": reason }).to_string();
        self.messages
            .push(json!({ "role": "tool", "tool_call_id": id, "content": content }));
    }
}

/// Asks the model for the next step.
pub(crate) async fn next(
    endpoint: &ChatEndpoint,
    state: &mut ChatState,
    tools: &[String],
    schemas: &[(String, Value)],
) -> Next {
    loop {
        if let Some((id, action, args)) = (!state.queue.is_empty()).then(|| state.queue.remove(0)) {
            match args {
                Ok(args) if action == "delegate" => {
                    let delegate = super::playbook::Delegate {
                        agent: args["agent"].as_str().unwrap_or_default().to_string(),
                        task: args["task"].as_str().unwrap_or_default().to_string(),
                        tools: args["tools"].as_array().map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_string))
                                .collect()
                        }),
                        max_steps: args["max_steps"].as_u64().map(|n| n as u32),
                    };
                    let task = delegate.task.clone();
                    return Next::Delegate {
                        step: id,
                        delegate,
                        task,
                    };
                }
                Ok(args) => {
                    return Next::Tool {
                        step: id,
                        action,
                        args,
                        reasoning: last_reasoning(state),
                    }
                }
                Err(problem) => {
                    state.messages.push(json!({ "role": "tool", "tool_call_id": id, "content": json!({ "status": "error", "reason": problem }).to_string() }));
                    continue;
                }
            }
        }
        let body = json!({
            "model": endpoint.model,
            "messages": state.messages,
            "tools": functions(tools, schemas),
            "tool_choice": "auto",
        });
        let response = match request(endpoint, &body).await {
            Ok(r) => r,
            Err(e) => return Next::Fail(e),
        };
        state.tokens += response["usage"]["total_tokens"].as_u64().unwrap_or(0);
        let Some(message) = response["choices"][0]["message"].as_object().cloned() else {
            return Next::Fail(format!(
                "the model endpoint returned no message: {}",
                truncate(&response.to_string())
            ));
        };
        if let Some(refusal) = message
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            return Next::Fail(format!("the model refused: {refusal}"));
        }
        state.messages.push(Value::Object(message.clone()));
        let calls = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if calls.is_empty() {
            let content = message
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return Next::Finish(if content.is_empty() {
                "done".into()
            } else {
                content
            });
        }
        for (i, call) in calls.iter().enumerate() {
            let id = call["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("call_{}_{i}", state.messages.len()));
            let name = call["function"]["name"].as_str().unwrap_or_default();
            let action = name.replace("__", ".");
            let args = match &call["function"]["arguments"] {
                Value::String(text) => serde_json::from_str::<Value>(text)
                    .map_err(|e| format!("the arguments of {name} are not valid JSON ({e}); call the tool again with a JSON object"))
                    .and_then(|v| if v.is_object() { Ok(v) } else { Err(format!("the arguments of {name} must be a JSON object")) }),
                Value::Object(_) => Ok(call["function"]["arguments"].clone()),
                _ => Err(format!("the tool call {name} has no arguments object")),
            };
            // A name outside the catalog is a model error, fed back; a catalog action the agent
            // may not use goes on to the engine, which denies it visibly (timeline and audit).
            let args = if action != "delegate" && crate::tools::catalog::executor(&action).is_none()
            {
                Err(format!(
                    "there is no tool named {name}; use one of the functions provided"
                ))
            } else {
                args
            };
            state.queue.push((id, action, args));
        }
    }
}

fn last_reasoning(state: &ChatState) -> Option<String> {
    state
        .messages
        .iter()
        .rev()
        .find(|m| m["role"] == "assistant")
        .and_then(|m| m["content"].as_str())
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

fn functions(tools: &[String], schemas: &[(String, Value)]) -> Value {
    let mut out: Vec<Value> = tools
        .iter()
        .map(|tool| {
            let schema = schemas.iter().find(|(n, _)| n == tool).map(|(_, s)| s.clone()).unwrap_or(json!({ "type": "object" }));
            json!({ "type": "function", "function": { "name": tool.replace('.', "__"), "description": format!("Headmaster tool {tool}"), "parameters": schema } })
        })
        .collect();
    out.push(json!({ "type": "function", "function": {
        "name": "delegate",
        "description": "Hand a sub-task to another agent of this workspace, with a subset of your tools and a step budget.",
        "parameters": { "type": "object", "required": ["agent", "task"], "properties": {
            "agent": { "type": "string" }, "task": { "type": "string" },
            "tools": { "type": "array", "items": { "type": "string" } }, "max_steps": { "type": "integer" } } } } }));
    Value::Array(out)
}

async fn request(endpoint: &ChatEndpoint, body: &Value) -> Result<Value, String> {
    let client = reqwest::Client::builder()
        .timeout(endpoint.timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let url = format!(
        "{}/chat/completions",
        endpoint.base_url.trim_end_matches('/')
    );
    let mut delay = endpoint.backoff;
    let mut last = String::new();
    for attempt in 0..=RETRIES {
        if attempt > 0 {
            // Backing off between retries of a rate-limited or failing endpoint is the point
            // here, not synchronisation.
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        let mut req = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(key) = &endpoint.api_key {
            req = req.bearer_auth(key);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                let text = resp
                    .text()
                    .await
                    .map_err(|e| format!("reading the model's answer failed: {e}"))?;
                return serde_json::from_str(&text).map_err(|e| {
                    format!(
                        "the model endpoint returned malformed JSON ({e}): {}",
                        truncate(&text)
                    )
                });
            }
            Ok(resp) if resp.status().as_u16() == 429 || resp.status().is_server_error() => {
                if let Some(wait) = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    delay = Duration::from_secs(wait.min(30));
                }
                last = format!("HTTP {} from {url}", resp.status());
            }
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                return Err(format!(
                    "the model endpoint answered HTTP {status}: {}",
                    truncate(&text)
                ));
            }
            Err(e) if e.is_timeout() => {
                last = format!("timed out after {:?} waiting for {url}", endpoint.timeout)
            }
            Err(e) => last = format!("cannot reach the model endpoint {url}: {e}"),
        }
    }
    Err(format!(
        "{last} (gave up after {} attempts); check that the model server is running",
        RETRIES + 1
    ))
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}
