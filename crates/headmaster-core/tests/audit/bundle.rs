//! A real export: stock `ssh-keygen -Y verify` and `sha256sum -c` accept it, every event line
//! carries the required OCSF attributes of its class, and tampering is detected.

use std::path::Path;
use std::process::Command;

use headmaster_core::access::Scope;
use headmaster_protocol::bundle::{verify_bundle, Trust};

use crate::common::{secret, Fixture};
use crate::support::fill;

#[path = "../../../headmaster-protocol/tests/schema.rs"]
#[allow(dead_code)]
mod schema;

async fn exported(fx: &Fixture) -> std::path::PathBuf {
    let session = fx.admin().await;
    fill(fx, &session, 5, 1000).await;
    fx.instance
        .sign_in("alice", &secret("wrong password!"), crate::common::source())
        .await
        .unwrap_err();
    fx.instance
        .add_user(
            &session,
            "bob",
            &secret("bob's long password"),
            headmaster_core::access::Role::Viewer,
        )
        .await
        .unwrap();
    let ws = fx.instance.resolve_workspace(&session, None).await.unwrap();
    fx.instance
        .add_member(&session, ws.id.parse().unwrap(), "bob", "operator")
        .await
        .unwrap();
    let out = fx.dir.path().join("export");
    let report = fx
        .instance
        .export_audit(&session, Scope::Org, &out, &|_, _| {})
        .await
        .unwrap();
    assert!(report.events >= 10, "{report:?}");
    let ws_out = fx.dir.path().join("export-workspace");
    fx.instance
        .export_audit(
            &session,
            Scope::Workspace(ws.id.parse().unwrap()),
            &ws_out,
            &|_, _| {},
        )
        .await
        .unwrap();
    out
}

#[tokio::test]
async fn stock_openssh_and_sha256sum_accept_a_real_export() {
    let fx = Fixture::new().await;
    let dir = exported(&fx).await;
    let pubkey = std::fs::read_to_string(dir.join("device.pub")).unwrap();
    let signers = fx.dir.path().join("allowed_signers");
    std::fs::write(&signers, format!("headmaster {pubkey}")).unwrap();
    let ok = ssh_verify(&dir, &signers);
    assert!(ok.0, "ssh-keygen refused: {}", ok.1);
    assert!(ok.1.contains("Good"), "{}", ok.1);
    let sums = Command::new("sha256sum")
        .arg("-c")
        .arg("SHA256SUMS")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );

    // One byte more in the manifest and OpenSSH refuses.
    let manifest = dir.join("manifest.json");
    let mut bytes = std::fs::read(&manifest).unwrap();
    bytes.push(b' ');
    std::fs::write(&manifest, bytes).unwrap();
    assert!(!ssh_verify(&dir, &signers).0);
    let report = verify_bundle(&dir, Trust::BundleKey).unwrap();
    assert!(
        report.problems.iter().any(|p| p.file == "manifest.json"),
        "{:?}",
        report.problems
    );
}

fn ssh_verify(dir: &Path, signers: &Path) -> (bool, String) {
    let output = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(signers)
        .args(["-I", "headmaster", "-n", "headmaster-audit", "-s"])
        .arg(dir.join("manifest.json.sig"))
        .stdin(std::fs::File::open(dir.join("manifest.json")).unwrap())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn every_exported_event_has_the_required_ocsf_attributes_of_its_class() {
    let fx = Fixture::new().await;
    let dir = exported(&fx).await;
    let schema = schema::Schema::load_from(
        &std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../headmaster-protocol/ocsf"),
    );
    let mut text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    text.push_str(
        &std::fs::read_to_string(fx.dir.path().join("export-workspace").join("events.jsonl"))
            .unwrap(),
    );
    let mut classes = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let class = match event["class_uid"].as_u64().unwrap() {
            3001 => "iam/account_change",
            3002 => "iam/authentication",
            3005 => "iam/user_access",
            3008 => "iam/role_management",
            6003 => "application/api_activity",
            other => panic!("line {}: unexpected class {other}", i + 1),
        };
        classes.insert(class);
        let errors = schema.validate(&event, class);
        assert!(
            errors.is_empty(),
            "line {} ({class}): {errors:?}\n{event}",
            i + 1
        );
        let class_uid = event["class_uid"].as_u64().unwrap();
        assert_eq!(
            event["type_uid"].as_u64().unwrap(),
            class_uid * 100 + event["activity_id"].as_u64().unwrap()
        );
        assert_eq!(class_uid / 1000, event["category_uid"].as_u64().unwrap());
    }
    for expected in [
        "iam/authentication",
        "iam/account_change",
        "iam/user_access",
        "application/api_activity",
    ] {
        assert!(
            classes.contains(expected),
            "no {expected} event in {classes:?}"
        );
    }
}

#[tokio::test]
async fn tampered_bundles_are_named_precisely() {
    let fx = Fixture::new().await;
    let dir = exported(&fx).await;
    assert!(verify_bundle(&dir, Trust::BundleKey)
        .unwrap()
        .problems
        .is_empty());
    for file in [
        "events.jsonl",
        "chain.jsonl",
        "checkpoints.json",
        "device.pub",
        "SHA256SUMS",
        "manifest.json.sig",
    ] {
        let copy = fx.dir.path().join(format!("copy-{file}"));
        copy_dir(&dir, &copy);
        let path = copy.join(file);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] = bytes[at].wrapping_add(1);
        std::fs::write(&path, bytes).unwrap();
        let problems = verify_bundle(&copy, Trust::BundleKey)
            .map(|r| r.problems)
            .unwrap_or_default();
        assert!(
            !problems.is_empty(),
            "a changed byte in {file} went unnoticed"
        );

        let removed = fx.dir.path().join(format!("removed-{file}"));
        copy_dir(&dir, &removed);
        std::fs::remove_file(removed.join(file)).unwrap();
        let problems = verify_bundle(&removed, Trust::BundleKey)
            .map(|r| r.problems)
            .unwrap_or_default();
        assert!(
            problems.iter().any(|p| p.file == file),
            "removing {file}: {problems:?}"
        );
    }
    // A bundle verified against a pinned key that did not sign it.
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
    let report = verify_bundle(&dir, Trust::Pinned(&[other])).unwrap();
    assert!(report.signer.is_none());
    assert!(!report.problems.is_empty());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}
