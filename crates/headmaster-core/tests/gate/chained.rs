//! A command line is judged per command after parsing: a denied or critical command hidden
//! after an allowed one (`&&`, `;`, `||`, `$(…)`, backticks, `| sh`) makes the whole line
//! critical or denied, even when `shell.exec` itself is low and a standing grant covers the
//! proposer. Nothing of such a line runs before two Approvers have read it.

use headmaster_policy::Tier;
use std::collections::BTreeMap;

use headmaster_core::access::Role;
use headmaster_core::approvals::GrantRequest;
use headmaster_core::tools::CallOutcome;
use serde_json::json;

use crate::support::{executed, having, Gate};

#[tokio::test]
async fn a_denied_or_critical_command_hidden_in_a_chain_is_never_run_automatically() {
    let gate = Gate::new().await;
    gate.enable("shell").await;
    gate.set_tier("shell.exec", "low").await;
    let operator = gate.member("oscar", Role::Operator).await;
    // A standing grant for every shell command of the operator: it must not cover any of these.
    let grant = gate
        .instance()
        .create_grant(
            &gate.admin,
            gate.ws,
            GrantRequest {
                action: "shell.exec".into(),
                principal: "oscar".into(),
                args: BTreeMap::new(),
                minutes: 60,
            },
        )
        .await
        .unwrap();
    assert!(grant.active);
    let files = gate.files_created();

    // An allowed chain still runs, so the splitting is not just "everything is critical".
    let fine = gate
        .propose(
            &operator,
            "shell.exec",
            json!({ "command": "touch fine && echo ok" }),
        )
        .await
        .unwrap();
    assert_eq!(executed(&fine)["stdout"], "ok\n");
    assert!(files.join("fine").exists());

    let critical = [
        "touch ran1 && curl -s http://example.com/",
        "touch ran2; rm -rf drafts",
        "touch ran3 || wget -q http://example.com/x",
        "touch ran4; echo $(curl -s http://example.com/)",
        "touch ran5; echo `wget -qO- http://example.com/`",
        "touch ran6; cat script.txt | sh",
        "touch ran7; echo 'id' | bash -s",
        "touch ran8; exec 3<>/dev/tcp/127.0.0.1/80",
        "touch ran9; eval \"$(cat x)\"",
        "touch ran10; echo \"unterminated",
    ];
    let denied = [
        "touch ran11 && sudo rm -rf /",
        "touch ran12; su -c id",
        "touch ran13 || mkfs.ext4 /dev/sda1",
        "touch ran14; echo $(sudo id)",
    ];
    let mark = gate.mark().await;
    for command in critical {
        let outcome = gate
            .propose(&operator, "shell.exec", json!({ "command": command }))
            .await
            .unwrap();
        match &outcome {
            CallOutcome::Pending {
                tier,
                quorum,
                reasons,
                ..
            } => {
                assert_eq!(
                    (tier.as_str(), *quorum),
                    ("critical", 2),
                    "{command}: {reasons:?}"
                );
            }
            other => panic!("{command} was not held for two Approvers: {other:?}"),
        }
    }
    for command in denied {
        let outcome = gate
            .propose(&operator, "shell.exec", json!({ "command": command }))
            .await
            .unwrap();
        assert!(
            matches!(outcome, CallOutcome::Denied { .. }),
            "{command} was not denied: {outcome:?}"
        );
    }
    let events = gate.events_after(mark).await;
    assert!(
        having(&events, "tool.executed", "allowed").is_empty(),
        "{events:?}"
    );
    assert!(
        having(&events, "grant.used", "allowed").is_empty(),
        "{events:?}"
    );
    assert_eq!(
        having(&events, "approval.requested", "pending").len(),
        critical.len()
    );
    assert_eq!(having(&events, "tool.denied", "denied").len(), denied.len());
    for n in 1..=14 {
        assert!(
            !files.join(format!("ran{n}")).exists(),
            "part of chain {n} ran"
        );
    }

    // A redirection that writes outside the workspace is high: one Approver reads it first
    // (asked by the Admin, whom no grant covers; a grant may cover high calls).
    let redirect = gate
        .propose(
            &gate.admin,
            "shell.exec",
            json!({ "command": "echo ok > /etc/cron.d/job" }),
        )
        .await
        .unwrap();
    assert!(
        matches!(&redirect, CallOutcome::Pending { tier, .. } if *tier == Tier::High),
        "{redirect:?}"
    );
}
