//! Printing results and errors.

use std::io::Write;

use serde::Serialize;

/// Prints `value` as pretty JSON on stdout. A closed pipe (`| head`) ends output quietly.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Prints an error: one line of text, or `{"error":{"code","message"}}` with `--json`.
pub fn print_error(json: bool, error: &anyhow::Error) {
    let (code, message) = match error.downcast_ref::<headmaster_core::Error>() {
        Some(core) => (core.code().to_string(), core.to_string()),
        None => ("error".to_string(), format!("{error:#}")),
    };
    if json {
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        eprintln!("{body}");
    } else {
        eprintln!("error: {message}");
    }
}
