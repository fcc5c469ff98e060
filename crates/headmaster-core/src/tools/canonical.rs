//! Canonical JSON: object keys sorted, no insignificant whitespace. The argument hash an
//! approval binds is SHA-256 over this form, so it does not depend on key order or on how a
//! serde_json build orders maps.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical text of `value`.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// SHA-256 (hex) of the canonical form of `{action, args}`.
pub fn call_hash(action: &str, args: &Value) -> String {
    let mut text = String::from("headmaster-call-v1\n");
    text.push_str(action);
    text.push('\n');
    text.push_str(&canonical_json(args));
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_but_values_do() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b: Value = serde_json::from_str(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"s","y":[1,2]},"b":1}"#);
        assert_eq!(call_hash("email.send", &a), call_hash("email.send", &b));
        assert_ne!(
            call_hash("email.send", &a),
            call_hash("email.send", &json!({"b": 2, "a": {"y": [1, 2], "x": "s"}}))
        );
        assert_ne!(call_hash("email.send", &a), call_hash("http.post", &a));
        assert_ne!(
            call_hash("x", &json!({"a": [1, 2]})),
            call_hash("x", &json!({"a": [2, 1]}))
        );
    }
}
