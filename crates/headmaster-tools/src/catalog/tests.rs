//! Keeps the hand-written schemas in step with the argument and configuration structs.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::*;
use crate::email::EmailConfig;
use crate::files::FileConfig;
use crate::http::HttpConfig;
use crate::ToolCall;

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Arguments with every field set, valid for the action.
fn full_args(action: Action) -> Value {
    match action {
        Action::FileRead => json!({"path": "a.txt"}),
        Action::FileWrite => json!({"path": "a.txt", "content": "x", "encoding": "utf8"}),
        Action::FileList => json!({"path": "docs"}),
        Action::EmailSend => json!({"to": ["a@example.com"], "cc": ["b@example.com"],
            "bcc": ["c@example.com"], "subject": "s", "body": "b", "reply_to": "d@example.com"}),
        http if http.is_mutating() => {
            json!({"url": "https://example.com/", "headers": {"X-A": "1"}, "body": "x"})
        }
        _ => json!({"url": "https://example.com/", "headers": {"X-A": "1"}}),
    }
}

#[test]
fn every_schema_lists_exactly_the_accepted_fields_and_the_required_ones() {
    for action in Action::ALL {
        let schema = action.spec().args_schema;
        let full = full_args(action);
        assert_eq!(
            keys(&schema["properties"]),
            keys(&full),
            "{}",
            action.name()
        );
        ToolCall::parse(action.name(), &full)
            .unwrap_or_else(|error| panic!("{}: {error}", action.name()));
        let required = required(&schema);
        for field in keys(&full) {
            let mut without = full.clone();
            without.as_object_mut().unwrap().remove(&field);
            let parsed = ToolCall::parse(action.name(), &without);
            assert_eq!(
                parsed.is_err(),
                required.contains(&field),
                "{}: {field}",
                action.name()
            );
        }
        let mut extra = full.clone();
        extra["unexpected"] = json!(1);
        assert_eq!(
            ToolCall::parse(action.name(), &extra).unwrap_err().code(),
            "invalid_arguments"
        );
    }
}

#[test]
fn config_schemas_list_exactly_the_settings() {
    let email = EmailConfig {
        host: "smtp.example.com".to_owned(),
        port: 587,
        tls: crate::email::SmtpTls::Starttls,
        from: "a@example.com".to_owned(),
        username: Some("u".to_owned()),
        password: Some("{{credential:P}}".to_owned()),
        timeout_ms: 1000,
    };
    let samples = [
        ("file", serde_json::to_value(FileConfig::default()).unwrap()),
        ("http", serde_json::to_value(HttpConfig::default()).unwrap()),
        ("email", serde_json::to_value(&email).unwrap()),
    ];
    for (tool, sample) in samples {
        let schema = config_schema(tool).unwrap();
        assert_eq!(keys(&schema["properties"]), keys(&sample), "{tool}");
        let required = required(&schema);
        for field in keys(&sample) {
            let mut without = sample.clone();
            without.as_object_mut().unwrap().remove(&field);
            let parsed = match tool {
                "file" => serde_json::from_value::<FileConfig>(without).is_ok(),
                "http" => serde_json::from_value::<HttpConfig>(without).is_ok(),
                _ => serde_json::from_value::<EmailConfig>(without).is_ok(),
            };
            assert_eq!(!parsed, required.contains(&field), "{tool}: {field}");
        }
    }
    assert_eq!(config_schema("shell"), None);
}

#[test]
fn names_round_trip_and_boundary_flags_follow_the_design() {
    for action in Action::ALL {
        assert_eq!(Action::from_name(action.name()), Some(action));
        assert_eq!(action.spec().tool, action.name().split('.').next().unwrap());
    }
    assert_eq!(Action::from_name("shell.exec"), None);
    let crossing: Vec<_> = catalog()
        .into_iter()
        .filter(|s| s.crosses_boundary)
        .map(|s| s.name)
        .collect();
    assert_eq!(
        crossing,
        [
            "http.get",
            "http.head",
            "http.post",
            "http.put",
            "http.patch",
            "http.delete",
            "email.send"
        ]
    );
    let mutating: Vec<_> = catalog()
        .into_iter()
        .filter(|s| s.mutating)
        .map(|s| s.name)
        .collect();
    assert_eq!(
        mutating,
        [
            "file.write",
            "http.post",
            "http.put",
            "http.patch",
            "http.delete",
            "email.send"
        ]
    );
}
