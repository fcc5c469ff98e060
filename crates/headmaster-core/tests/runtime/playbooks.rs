//! The two shipped playbooks end to end, behind the approval gate: the weekly client update
//! sends through a real SMTP server only after an Approver other than the starter approved it
//! (and ends through its `not-sent` step after a rejection); the folder triage runs its shell
//! step only after another Operator confirmed it, and drafts a summary of what arrived.

use headmaster_core::approvals::PageRequest;
use headmaster_core::states::ApprovalStatus;
use headmaster_core::states::RunStatus;
use headmaster_core::states::StepKind;
use headmaster_core::Error;
use headmaster_policy::Tier;
use serde_json::Value;

use crate::support::smtp::SmtpSink;
use crate::support::{example, waiting_on, weekly_body, Team, CLIENT};

fn kinds(timeline: &[headmaster_core::runtime::RunStep]) -> Vec<&str> {
    timeline.iter().map(|s| s.kind.as_str()).collect()
}

#[tokio::test]
async fn the_weekly_update_waits_for_an_approver_then_sends_exactly_what_it_drafted() {
    let sink = SmtpSink::start();
    let team = Team::new().await;
    let agent = team.weekly_update(&sink).await;
    assert_eq!(agent.provider, "playbook");
    assert_eq!(agent.tools, ["memory.read", "draft.save", "email.send"]);

    let run = team.start("weekly-client-update", "Client Corp").await;
    assert_eq!(run.status, RunStatus::WaitingApproval, "{run:?}");
    let approval = waiting_on(&run);
    let pending = team
        .instance()
        .list_approvals(
            &team.carol,
            team.ws,
            Some("pending"),
            &PageRequest::default(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, approval);
    assert_eq!(pending[0].action, "email.send");
    assert_eq!(
        pending[0].tier,
        Tier::High,
        "the client is outside acme.test"
    );
    assert_eq!(pending[0].run_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(pending[0].on_behalf_of_name, "bob");
    assert!(pending[0].can_decide);
    assert!(
        sink.messages().is_empty(),
        "nothing leaves before the approval"
    );
    // The draft is saved before the send step, so reviewers can read it while deciding.
    let drafts = team
        .instance()
        .list_drafts(&team.carol, team.ws)
        .await
        .unwrap();
    assert_eq!(drafts.len(), 1);
    assert_eq!(
        (drafts[0].key.as_str(), drafts[0].version),
        ("weekly-update", 1)
    );

    // Neither the starter nor another Operator may approve a high-tier call.
    assert!(team.approve(&team.bob, &approval).await.is_err());
    assert!(team.approve(&team.dave, &approval).await.is_err());
    let decided = team.approve(&team.carol, &approval).await.unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert!(
        decided.executed.is_none(),
        "an agent's call runs when its run resumes"
    );
    assert!(sink.messages().is_empty());

    let done = team.resume(&run.id).await;
    assert_eq!(done.status, RunStatus::Completed, "{done:?}");
    assert_eq!(
        done.outcome.as_deref(),
        Some("Update for Client Corp drafted (version 1) and sent to cto@client.example.")
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["rcpt_tos"], serde_json::json!([CLIENT]));
    assert_eq!(messages[0]["mail_from"], "agents@acme.test");
    assert_eq!(messages[0]["subject"], "Weekly update: Client Corp");
    assert_eq!(
        messages[0]["body"].as_str().unwrap(),
        weekly_body("Client Corp")
    );

    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    assert_eq!(
        kinds(&detail.timeline),
        [
            "tool_call",
            "result",
            "tool_call",
            "result",
            "tool_call",
            "result",
            "tool_call",
            "decision",
            "decision",
            "result",
            "finish"
        ]
    );
    assert_eq!(detail.summary.steps, 4, "four tool calls");
    assert_eq!(detail.drafts.len(), 1);
    let draft = team
        .instance()
        .show_draft(&team.admin, team.ws, "weekly-update")
        .await
        .unwrap();
    assert_eq!(draft.versions.len(), 1);
    assert_eq!(draft.versions[0].0.title, "Weekly update: Client Corp");
    assert_eq!(draft.versions[0].0.run_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(draft.versions[0].0.author, format!("agent:{}", agent.id));
    assert_eq!(draft.versions[0].1, weekly_body("Client Corp"));

    // The send was executed once, by the agent, under carol's approval.
    let sent: Vec<_> = team
        .having("tool.executed")
        .await
        .into_iter()
        .filter(|e| e.target == "email.send")
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].actor_kind.as_str(), sent[0].actor_id.as_str()),
        ("agent", agent.id.as_str())
    );
    assert_eq!(sent[0].approval_id, approval);
    assert_eq!(sent[0].run_id, run.id);
    let approved = team.having("approval.approved").await;
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].actor_name, "carol");
    assert_eq!(team.having("run.completed").await.len(), 1);

    // A second run adds version 2 of the same draft; the background tick resumes it.
    let again = team.start("weekly-client-update", "Client Corp").await;
    assert_eq!(again.status, RunStatus::WaitingApproval);
    assert_eq!(
        team.instance().tick_runs().await.unwrap(),
        0,
        "a pending request keeps the run waiting"
    );
    team.approve(&team.carol, &waiting_on(&again))
        .await
        .unwrap();
    assert_eq!(team.instance().tick_runs().await.unwrap(), 1);
    let again = team.run(&again.id).await;
    assert_eq!(again.status, RunStatus::Completed);
    assert_eq!(
        again.outcome.as_deref(),
        Some("Update for Client Corp drafted (version 2) and sent to cto@client.example.")
    );
    assert_eq!(sink.messages().len(), 2);
    let draft = team
        .instance()
        .show_draft(&team.admin, team.ws, "weekly-update")
        .await
        .unwrap();
    let versions: Vec<i64> = draft.versions.iter().map(|(s, _)| s.version).collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(
        draft.versions[0].0.run_id.as_deref(),
        Some(again.id.as_str())
    );
    let listed = team
        .instance()
        .list_drafts(&team.admin, team.ws)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "one draft, two versions");
    assert_eq!(listed[0].version, 2);
    assert_eq!(
        team.instance().tick_runs().await.unwrap(),
        0,
        "finished runs are left alone"
    );
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn a_rejection_ends_the_weekly_update_through_its_not_sent_step() {
    let sink = SmtpSink::start();
    let team = Team::new().await;
    team.weekly_update(&sink).await;
    let run = team.start("weekly-client-update", "Client Corp").await;
    let approval = waiting_on(&run);
    let decided = team
        .reject(
            &team.carol,
            &approval,
            "Not this week: the numbers are pending",
        )
        .await
        .unwrap();
    assert_eq!(decided.status, ApprovalStatus::Rejected);

    let done = team.resume(&run.id).await;
    assert_eq!(done.status, RunStatus::Completed, "{done:?}");
    assert_eq!(
        done.outcome.as_deref(),
        Some("Update for Client Corp drafted but not sent: request rejected: Not this week: the numbers are pending.")
    );
    assert!(sink.messages().is_empty(), "a rejected call never runs");
    let detail = team
        .instance()
        .show_run(&team.admin, team.ws, &run.id)
        .await
        .unwrap();
    let send_result = detail
        .timeline
        .iter()
        .find(|s| s.kind == StepKind::Result && s.body["step"] == "send")
        .expect("the send step has a result");
    assert_eq!(send_result.body["status"], "rejected");
    assert!(send_result.body["reason"]
        .as_str()
        .unwrap()
        .contains("the numbers are pending"));
    assert_eq!(
        detail.timeline.last().unwrap().body["summary"],
        Value::from(done.outcome.clone().unwrap())
    );
    assert_eq!(
        detail.drafts.len(),
        1,
        "the draft stays for the next attempt"
    );
    assert!(team
        .having("tool.executed")
        .await
        .iter()
        .all(|e| e.target != "email.send"));
    let again = team
        .instance()
        .resume_run(&team.bob, team.ws, &run.id)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again}");
    assert!(team.chain_valid().await);
}

#[tokio::test]
async fn the_triage_runs_its_shell_step_after_another_operator_confirms_and_drafts_a_summary() {
    let team = Team::new().await;
    team.enable(&["file", "shell", "draft"]).await;
    let inbox = team.files().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("invoice-0042.txt"),
        "Invoice 0042\nAmount: 120 EUR\nDue: 2026-12-15\nPay to: Acme Ltd\n",
    )
    .unwrap();
    std::fs::write(
        inbox.join("meeting-notes.md"),
        "# Meeting notes\nAttendees: bob, carol\nDecision: ship Friday\nFollow-ups below\n",
    )
    .unwrap();
    std::fs::write(inbox.join("todo.txt"), "call the bank\n").unwrap();
    team.playbook(example("triage-folder.toml")).await;

    let run = team.start("triage-folder", "Monday batch").await;
    assert_eq!(run.status, RunStatus::WaitingConfirmation, "{run:?}");
    let approval = waiting_on(&run);
    let shown = team
        .instance()
        .show_approval(&team.dave, team.ws, &approval)
        .await
        .unwrap();
    assert_eq!(shown.summary.action, "shell.exec");
    assert_eq!(shown.summary.tier, Tier::Medium);
    assert!(team
        .having("tool.executed")
        .await
        .iter()
        .all(|e| e.target != "shell.exec"));

    let own = team.approve(&team.bob, &approval).await.unwrap_err();
    assert_eq!(own.code(), "forbidden", "{own}");
    assert!(
        own.to_string().contains("another person must decide"),
        "{own}"
    );
    assert_eq!(
        team.approve(&team.dave, &approval).await.unwrap().status,
        ApprovalStatus::Approved
    );

    let done = team.resume(&run.id).await;
    assert_eq!(done.status, RunStatus::Completed, "{done:?}");
    assert_eq!(
        done.outcome.as_deref(),
        Some("Triage summary saved as draft version 1.")
    );
    let draft = team
        .instance()
        .show_draft(&team.admin, team.ws, "inbox-triage")
        .await
        .unwrap();
    assert_eq!(draft.versions.len(), 1);
    assert_eq!(draft.versions[0].0.title, "Inbox triage: Monday batch");
    assert_eq!(
        draft.versions[0].1,
        "Files in inbox/:\ninvoice-0042.txt\nmeeting-notes.md\ntodo.txt\n\nFirst lines:\n\
         == inbox/invoice-0042.txt\nInvoice 0042\nAmount: 120 EUR\nDue: 2026-12-15\n\
         == inbox/meeting-notes.md\n# Meeting notes\nAttendees: bob, carol\nDecision: ship Friday\n\
         == inbox/todo.txt\ncall the bank\n"
    );
    let shell: Vec<_> = team
        .having("tool.executed")
        .await
        .into_iter()
        .filter(|e| e.target == "shell.exec")
        .collect();
    assert_eq!(shell.len(), 1);
    assert_eq!(shell[0].approval_id, approval);
    assert_eq!(shell[0].payload["output"]["exit_code"], 0);
    let confirmed = team.having("approval.approved").await;
    assert_eq!(confirmed.len(), 1);
    assert_eq!(confirmed[0].actor_name, "dave");
    assert!(team.chain_valid().await);
}
