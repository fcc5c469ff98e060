//! `{{…}}` templates in playbook arguments: `{{task}}`, `{{steps.ID.status}}`,
//! `{{steps.ID.output.PATH}}` (dot-separated keys and array indices), with the filters `|json`
//! (JSON text) and `|lines` (an array as one item per line; objects by their `name`).
//! A string that is exactly one template takes the referenced value itself (so a list stays a
//! list); inside longer text the value is written as text.

use std::collections::BTreeMap;

use serde_json::Value;

/// What templates can refer to.
#[derive(Debug, Clone)]
pub(crate) struct Scope<'a> {
    pub task: &'a str,
    pub steps: &'a BTreeMap<String, Value>,
}

/// Renders every string in `value`.
pub(crate) fn render(value: &Value, scope: &Scope<'_>) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => render_string(text, scope)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render(v, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render(v, scope)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// The references (`steps.ID…`, `task`) a string contains.
pub(crate) fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else {
            break;
        };
        let inner = rest[start + 2..start + end].trim();
        out.push(inner.split('|').next().unwrap_or("").trim().to_string());
        rest = &rest[start + end + 2..];
    }
    out
}

fn render_string(text: &str, scope: &Scope<'_>) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.starts_with("{{") && trimmed.ends_with("}}") && trimmed[2..].find("{{").is_none() {
        return lookup_expr(&trimmed[2..trimmed.len() - 2], scope);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| format!("unclosed template in {text:?}"))?;
        let value = lookup_expr(&rest[start + 2..start + end], scope)?;
        match value {
            Value::String(s) => out.push_str(&s),
            Value::Null => {}
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn lookup_expr(expr: &str, scope: &Scope<'_>) -> Result<Value, String> {
    let mut parts = expr.split('|').map(str::trim);
    let path = parts.next().unwrap_or_default();
    let mut value = lookup(path, scope)?;
    for filter in parts {
        value = match filter {
            "json" => Value::String(value.to_string()),
            "lines" => Value::String(lines(&value)),
            other => {
                return Err(format!(
                    "unknown template filter {other:?}; use json or lines"
                ))
            }
        };
    }
    Ok(value)
}

/// Looks up a dotted path.
pub(crate) fn lookup(path: &str, scope: &Scope<'_>) -> Result<Value, String> {
    let mut segments = path.split('.');
    match segments.next() {
        Some("task") => Ok(Value::String(scope.task.to_string())),
        Some("steps") => {
            let id = segments
                .next()
                .ok_or("steps needs a step id: {{steps.ID.output}}")?;
            let mut current = scope
                .steps
                .get(id)
                .ok_or_else(|| format!("step {id:?} has not run (yet)"))?
                .clone();
            for segment in segments {
                current = match (&current, segment.parse::<usize>()) {
                    (Value::Array(items), Ok(i)) => items.get(i).cloned().unwrap_or(Value::Null),
                    (Value::Object(map), _) => map.get(segment).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
            }
            Ok(current)
        }
        _ => Err(format!(
            "unknown template reference {path:?}; use task or steps.ID…"
        )),
    }
}

fn lines(value: &Value) -> String {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                Value::Object(map) => map
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| item.to_string()),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_text_values_and_filters() {
        let mut steps = BTreeMap::new();
        steps.insert("notes".to_string(), json!({ "status": "executed", "output": { "value": "Q3 went well", "list": ["a@x.com", "b@x.com"] } }));
        steps.insert(
            "ls".to_string(),
            json!({ "output": { "entries": [{ "name": "a.txt" }, { "name": "b.txt" }] } }),
        );
        let scope = Scope {
            task: "Acme",
            steps: &steps,
        };
        let rendered = render(
            &json!({
                "subject": "Update for {{task}}",
                "body": "Notes: {{ steps.notes.output.value }}.",
                "to": "{{steps.notes.output.list}}",
                "files": "{{steps.ls.output.entries|lines}}",
                "raw": "{{steps.notes.output|json}}",
            }),
            &scope,
        )
        .unwrap();
        assert_eq!(rendered["subject"], "Update for Acme");
        assert_eq!(rendered["body"], "Notes: Q3 went well.");
        assert_eq!(rendered["to"], json!(["a@x.com", "b@x.com"]));
        assert_eq!(rendered["files"], "a.txt\nb.txt");
        assert!(rendered["raw"].as_str().unwrap().contains("Q3 went well"));
        assert!(render(&json!("{{steps.missing.output}}"), &scope).is_err());
        assert!(render(&json!("{{secrets}}"), &scope).is_err());
        assert_eq!(
            references("a {{steps.x.output|json}} b {{task}}"),
            vec!["steps.x.output", "task"]
        );
    }
}
