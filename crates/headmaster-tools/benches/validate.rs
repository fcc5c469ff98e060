//! Per-call cost of argument handling for every action: JSON → typed arguments → `validate()`
//! (what `ToolCall::parse` does), and then `affected()` (the reviewer's description; for
//! `file.write` this reads the current file and computes the diff, on tokio's blocking pool).
//!
//! Run with `cargo bench -p headmaster-tools --bench validate`. Prints the median of several
//! batches, in microseconds per call.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use headmaster_tools::email::{EmailConfig, SmtpTls};
use headmaster_tools::files::{FileConfig, FileScope};
use headmaster_tools::http::{HttpConfig, HttpContext, SystemResolver};
use headmaster_tools::{Action, ToolCall, ToolContext};
use serde_json::{json, Value};

const BATCHES: usize = 15;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text: String = (0..40).map(|i| format!("line {i} of the plan\n")).collect();
    std::fs::write(dir.path().join("plan.md"), &text).expect("the sample file");
    let ctx = ToolContext {
        files: FileScope::new(dir.path(), FileConfig::default()),
        http: HttpContext::with_resolver(
            HttpConfig {
                allowed_hosts: vec!["api.example.com".to_owned(), "*.example.org".to_owned()],
                ..HttpConfig::default()
            },
            Arc::new(SystemResolver),
        )
        .expect("a valid HTTP configuration"),
        email: Some(EmailConfig {
            host: "smtp.example.com".to_owned(),
            port: 587,
            tls: SmtpTls::Starttls,
            from: "agents@example.com".to_owned(),
            username: Some("agents".to_owned()),
            password: Some("{{credential:SMTP_PASSWORD}}".to_owned()),
            timeout_ms: 30_000,
        }),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");

    println!(
        "{:<12} {:>16} {:>22}",
        "action", "parse+validate", "parse+validate+affected"
    );
    for action in Action::ALL {
        let args = sample(action, &text);
        let iterations = if action == Action::FileWrite {
            2_000
        } else {
            20_000
        };
        let parse = median_micros(iterations, || {
            black_box(ToolCall::parse(action.name(), black_box(&args)).expect("valid arguments"));
        });
        let affected = median_micros(iterations, || {
            let call = ToolCall::parse(action.name(), black_box(&args)).expect("valid arguments");
            black_box(
                runtime
                    .block_on(ctx.affected(&call))
                    .expect("a description"),
            );
        });
        println!(
            "{:<12} {:>13.2} µs {:>19.2} µs",
            action.name(),
            parse,
            affected
        );
    }
}

/// The median over `BATCHES` batches of the mean time per call, in microseconds.
fn median_micros(iterations: usize, mut call: impl FnMut()) -> f64 {
    let mut batches: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                call();
            }
            start.elapsed().as_secs_f64() * 1e6 / iterations as f64
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[BATCHES / 2]
}

fn sample(action: Action, text: &str) -> Value {
    let http = json!({
        "url": "https://api.example.com/v1/items?page=2&key={{credential:API_KEY}}",
        "headers": {"Authorization": "Bearer {{credential:API_TOKEN}}", "Accept": "application/json"}
    });
    match action {
        Action::FileRead => json!({"path": "drafts/plan.md"}),
        Action::FileList => json!({"path": "drafts"}),
        Action::FileWrite => {
            json!({"path": "plan.md", "content": text.replace("line 7", "line seven")})
        }
        Action::EmailSend => json!({
            "to": ["alice@example.com", "bob@partner.org"],
            "cc": ["carol@example.com"],
            "bcc": ["audit@example.net"],
            "subject": "Quarterly report",
            "body": "Hello,\n".repeat(100)
        }),
        Action::HttpGet | Action::HttpHead => http,
        Action::HttpPost | Action::HttpPut | Action::HttpPatch | Action::HttpDelete => {
            let mut with_body = http;
            with_body["body"] = json!("{\"name\":\"widget\",\"count\":3}");
            with_body
        }
    }
}
