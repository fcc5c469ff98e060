//! `file.*` stays inside the workspace files folder: `..`, absolute paths, symbolic links and
//! hard links that lead outside are refused (at validation or at open time) and audited, and
//! nothing outside changes. A write outside `drafts/` waits for an Approver who sees the diff.

use headmaster_core::states::ApprovalStatus;
use std::os::unix::fs::symlink;

use headmaster_core::access::Role;
use serde_json::{json, Value};

use crate::support::{actions, executed, having, pending_id, pending_tier, tool_code, Gate};

const SECRET: &str = "TOP SECRET outside the workspace";

#[tokio::test]
async fn dot_dot_absolute_symlink_and_hard_link_escapes_are_refused_and_audited() {
    let gate = Gate::new().await;
    gate.enable("file").await;
    // The outside file shares the file system with the workspace, so a hard link is possible.
    let outside = tempfile::tempdir_in(gate.fx.home()).unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, SECRET).unwrap();
    let drafts = gate.files_created().join("drafts");
    std::fs::create_dir_all(&drafts).unwrap();
    symlink(&secret, drafts.join("link.txt")).unwrap();
    symlink(outside.path(), drafts.join("out")).unwrap();
    std::fs::hard_link(&secret, drafts.join("hard.txt")).unwrap();
    let absolute_escape = outside.path().join("escape.txt");
    let relative_escape = format!(
        "drafts/../../{}",
        outside.path().file_name().unwrap().to_string_lossy()
    );

    // Refused by validation: never reaches the disk, audited as `tool.rejected`.
    let rejected: Vec<(&str, Value)> = vec![
        ("file.read", json!({ "path": "../instance.db" })),
        (
            "file.read",
            json!({ "path": format!("{relative_escape}/secret.txt") }),
        ),
        ("file.read", json!({ "path": secret.to_string_lossy() })),
        ("file.read", json!({ "path": "/etc/passwd" })),
        ("file.list", json!({ "path": ".." })),
        (
            "file.write",
            json!({ "path": "drafts/../../escape.txt", "content": "x" }),
        ),
        (
            "file.write",
            json!({ "path": absolute_escape.to_string_lossy(), "content": "x" }),
        ),
    ];
    for (action, args) in rejected {
        let mark = gate.mark().await;
        let error = gate
            .propose(&gate.admin, action, args.clone())
            .await
            .expect_err(&format!("{action} {args} was accepted"));
        assert_eq!(error.code(), "invalid_input", "{action} {args}: {error}");
        let events = gate.events_after(mark).await;
        assert_eq!(actions(&events), ["tool.rejected"], "{action} {args}");
        assert_eq!(events[0].outcome, "denied");
    }

    // Refused where the kernel opens the path: audited as `tool.failed`.
    let refused_at_open: Vec<(&str, Value, &str)> = vec![
        (
            "file.read",
            json!({ "path": "drafts/link.txt" }),
            "file_symlink",
        ),
        (
            "file.read",
            json!({ "path": "drafts/out/secret.txt" }),
            "file_symlink",
        ),
        ("file.list", json!({ "path": "drafts/out" }), "file_symlink"),
        (
            "file.read",
            json!({ "path": "drafts/hard.txt" }),
            "file_hard_linked",
        ),
        (
            "file.write",
            json!({ "path": "drafts/link.txt", "content": "overwritten" }),
            "file_symlink",
        ),
        (
            "file.write",
            json!({ "path": "drafts/out/planted.txt", "content": "planted" }),
            "file_symlink",
        ),
        (
            "file.write",
            json!({ "path": "drafts/hard.txt", "content": "overwritten" }),
            "file_hard_linked",
        ),
    ];
    for (action, args, code) in refused_at_open {
        let mark = gate.mark().await;
        let error = gate
            .propose(&gate.admin, action, args.clone())
            .await
            .expect_err(&format!("{action} {args} ran"));
        assert_eq!(tool_code(&error), code, "{action} {args}: {error}");
        assert!(!error.to_string().contains(SECRET));
        let events = gate.events_after(mark).await;
        assert_eq!(
            actions(&events),
            ["tool.proposed", "tool.failed"],
            "{action} {args}"
        );
        assert_eq!(events[1].outcome, "failed");
        assert_eq!(events[1].target, action);
    }

    // Nothing outside changed, and the secret is in no audit payload.
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), SECRET);
    assert!(!outside.path().join("planted.txt").exists());
    assert!(!gate.fx.home().join("escape.txt").exists());
    assert!(!absolute_escape.exists());
    for entry in gate.entries().await {
        assert!(!entry.payload.to_string().contains(SECRET), "{entry:?}");
    }
}

#[tokio::test]
async fn a_write_outside_drafts_waits_for_an_approver_who_sees_the_diff() {
    let gate = Gate::new().await;
    gate.enable("file").await;
    let approver = gate.member("paula", Role::Approver).await;
    let plan = gate.files_created().join("notes/plan.txt");
    std::fs::create_dir_all(plan.parent().unwrap()).unwrap();
    std::fs::write(&plan, "step one\nstep two\nstep three\n").unwrap();

    // Inside drafts/ a write is low risk and runs at once.
    let draft = gate
        .propose(
            &gate.admin,
            "file.write",
            json!({ "path": "drafts/plan.txt", "content": "draft\n" }),
        )
        .await
        .unwrap();
    assert_eq!(executed(&draft)["created"], true);

    let mark = gate.mark().await;
    let outcome = gate
        .propose(
            &gate.admin,
            "file.write",
            json!({ "path": "notes/plan.txt", "content": "step one\nstep 2\nstep three\n" }),
        )
        .await
        .unwrap();
    assert_eq!(pending_tier(&outcome), ("high".to_string(), 1));
    let id = pending_id(&outcome);
    assert_eq!(
        std::fs::read_to_string(&plan).unwrap(),
        "step one\nstep two\nstep three\n",
        "nothing is written while the request waits"
    );

    let detail = gate
        .instance()
        .show_approval(&approver, gate.ws, &id)
        .await
        .unwrap();
    assert!(detail.summary.can_decide);
    assert_eq!(detail.affected["kind"], "file_write");
    assert_eq!(detail.affected["path"], "notes/plan.txt");
    assert_eq!(detail.affected["exists"], true);
    let diff = detail.affected["diff"].as_str().expect("a text diff");
    assert!(diff.contains("--- a/notes/plan.txt"), "{diff}");
    assert!(diff.contains("+++ b/notes/plan.txt"), "{diff}");
    assert!(diff.contains("\n-step two\n"), "{diff}");
    assert!(diff.contains("\n+step 2\n"), "{diff}");
    assert!(
        !diff.contains("-step one"),
        "unchanged lines are context: {diff}"
    );
    assert!(
        detail.reasons.iter().any(|r| r.contains("drafts")),
        "{:?}",
        detail.reasons
    );
    assert_eq!(
        detail.reasoning.as_deref(),
        Some("gate test proposes file.write")
    );
    let requested = &gate.entries_after(mark, "approval.requested").await[0];
    assert_eq!(
        requested.payload["args_sha256"],
        detail.args_sha256.as_str()
    );

    let decision = gate.approve(&approver, &id).await.unwrap();
    assert_eq!(decision.status, ApprovalStatus::Executed);
    assert_eq!(
        std::fs::read_to_string(&plan).unwrap(),
        "step one\nstep 2\nstep three\n"
    );
    let events = gate.events_after(mark).await;
    let ran = having(&events, "tool.executed", "allowed");
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].approval_id, id);
}
