//! The words of an approval notification: a title that says what waits and how risky it is
//! ("Approval needed: email.send (high)") and a body with who asks, where, and a one-line
//! summary of what would happen, read from the request's affected resources.

use headmaster_core::approvals::{ApprovalDetail, ApprovalSummary};
use headmaster_core::audit::ActorKind;
use serde_json::Value;

/// Longest body, in characters; notification servers cut longer ones anyway.
const MAX_BODY: usize = 240;

/// A notification to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// The notification for one new request in `workspace`. `detail` adds the summary of the
/// affected resources; without it (it could not be read) the body still names the requester.
pub fn for_request(
    workspace: &str,
    request: &ApprovalSummary,
    detail: Option<&ApprovalDetail>,
) -> Notice {
    let requester = if request.requester_kind == ActorKind::Agent {
        format!("An agent run of {}", request.on_behalf_of_name)
    } else {
        request.on_behalf_of_name.clone()
    };
    let mut body = format!("{requester} asks in {workspace}");
    if let Some(what) = detail.and_then(|d| affected_summary(&d.affected)) {
        body.push_str(": ");
        body.push_str(&what);
    }
    if request.quorum > 1 {
        body.push_str(&format!(
            " ({} of {} approvals so far)",
            request.approvals, request.quorum
        ));
    }
    Notice {
        title: format!("Approval needed: {} ({})", request.action, request.tier),
        body: shorten(&body),
    }
}

/// One notification for the requests left over when many arrive at once.
pub fn for_more(count: usize) -> Notice {
    Notice {
        title: format!("{count} more approval requests need you"),
        body: "Open the Approvals inbox in Headmaster to review them.".to_string(),
    }
}

/// The tray's text for the number of requests waiting.
pub fn pending_text(count: usize) -> String {
    match count {
        0 => "Headmaster: no approvals waiting".to_string(),
        1 => "Headmaster: 1 approval waiting".to_string(),
        n => format!("Headmaster: {n} approvals waiting"),
    }
}

/// What a request would do, in one line, from its affected resources.
fn affected_summary(affected: &Value) -> Option<String> {
    let text = |key: &str| {
        affected
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    match text("kind") {
        "email" => {
            let recipients: Vec<&str> = affected
                .get("recipients")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|r| r.get("address").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            Some(format!(
                "email to {} \u{2014} {}",
                recipients.join(", "),
                text("subject")
            ))
        }
        "file_write" => Some(format!("write {}", text("path"))),
        "file_read" => Some(format!("read {}", text("path"))),
        "file_list" => Some(format!("list {}", text("path"))),
        "http" => Some(format!("{} {}", text("method"), text("url"))),
        "shell" => Some(format!("run `{}`", text("command"))),
        "memory_write" => Some(format!("remember {}", text("key"))),
        "draft" => Some(format!("save draft {}", text("title"))),
        _ => None,
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_BODY {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_BODY - 1).collect();
    cut.push('\u{2026}');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(action: &str, tier: &str, kind: &str, quorum: u8) -> ApprovalSummary {
        ApprovalSummary {
            id: "a-1".into(),
            status: headmaster_core::approvals::ApprovalStatus::Pending,
            tier: tier.parse().expect("a tier name"),
            quorum,
            approvals: 0,
            action: action.into(),
            requester_kind: ActorKind::parse(kind).expect("an actor kind"),
            requester_id: "r-1".into(),
            on_behalf_of: "u-1".into(),
            on_behalf_of_name: "oscar".into(),
            run_id: None,
            created_at: "2026-11-27T10:00:00.000Z".into(),
            expires_at: "2026-11-28T10:00:00.000Z".into(),
            ms_left: 86_400_000,
            can_decide: true,
            cannot_decide: None,
        }
    }

    fn detail(summary: ApprovalSummary, affected: Value) -> ApprovalDetail {
        ApprovalDetail {
            summary,
            args: json!({}),
            args_sha256: "00".into(),
            reasoning: None,
            affected,
            reasons: Vec::new(),
            decisions: Vec::new(),
            result: None,
        }
    }

    #[test]
    fn an_email_request_names_tier_requester_and_recipients() {
        let summary = request("email.send", "high", "agent", 1);
        let affected = json!({
            "kind": "email", "subject": "Weekly update",
            "recipients": [{ "address": "carol@client.test" }, { "address": "dan@client.test" }],
        });
        let notice = for_request(
            "Acme Corp",
            &summary,
            Some(&detail(summary.clone(), affected)),
        );
        assert_eq!(notice.title, "Approval needed: email.send (high)");
        assert_eq!(
            notice.body,
            "An agent run of oscar asks in Acme Corp: email to carol@client.test, dan@client.test \u{2014} Weekly update"
        );
    }

    #[test]
    fn a_critical_request_shows_its_quorum_and_works_without_detail() {
        let summary = request("shell.exec", "critical", "user", 2);
        let notice = for_request("Ops", &summary, None);
        assert_eq!(notice.title, "Approval needed: shell.exec (critical)");
        assert_eq!(notice.body, "oscar asks in Ops (0 of 2 approvals so far)");
    }

    #[test]
    fn file_writes_http_and_shell_are_summarised_in_one_line() {
        for (affected, expected) in [
            (
                json!({ "kind": "file_write", "path": "notes/x.txt" }),
                "write notes/x.txt",
            ),
            (
                json!({ "kind": "http", "method": "POST", "url": "https://api.example.com/x" }),
                "POST https://api.example.com/x",
            ),
            (
                json!({ "kind": "shell", "command": "ls && make" }),
                "run `ls && make`",
            ),
        ] {
            let summary = request("x.y", "high", "user", 1);
            let notice = for_request("W", &summary, Some(&detail(summary.clone(), affected)));
            assert_eq!(notice.body, format!("oscar asks in W: {expected}"));
        }
    }

    #[test]
    fn long_bodies_are_cut_with_an_ellipsis() {
        let summary = request("shell.exec", "high", "user", 1);
        let affected = json!({ "kind": "shell", "command": "x".repeat(1000) });
        let notice = for_request("W", &summary, Some(&detail(summary.clone(), affected)));
        assert_eq!(notice.body.chars().count(), MAX_BODY);
        assert!(notice.body.ends_with('\u{2026}'));
    }

    #[test]
    fn the_tray_text_counts_waiting_requests() {
        assert_eq!(pending_text(0), "Headmaster: no approvals waiting");
        assert_eq!(pending_text(1), "Headmaster: 1 approval waiting");
        assert_eq!(pending_text(4), "Headmaster: 4 approvals waiting");
        assert_eq!(for_more(3).title, "3 more approval requests need you");
    }
}
