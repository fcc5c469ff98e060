//! The role matrix, cell by cell, against the product's wording of the four roles — in the
//! core's definition and as the API reports it.

use headmaster_core::access::{Capability, Role, RoleCapabilities};

use crate::common::Fixture;

const Y: bool = true;
const N: bool = false;

/// The expected matrix: capability → [Viewer, Operator, Approver, Admin], each row justified by
/// the seed's wording of the four roles:
/// - Viewer: "read workspace state, agent outputs and audit logs; cannot trigger actions or approve."
/// - Operator: "start agent runs, execute low-risk tools, confirm medium-risk actions, draft
///   outputs; cannot approve high/critical actions or change settings."
/// - Approver: "everything an Operator can, plus approve or reject actions at the trust boundary."
/// - Admin: "membership and role assignment, tool permissions, risk tiers, credentials,
///   integration settings, audit access, keys" — plus everything below it, because nobody may
///   grant what they lack (ARCHITECTURE.md, "Admin holds every capability").
const MATRIX: &[(&str, [bool; 4])] = &[
    // Viewer: "read workspace state, agent outputs"; every role above reads too.
    ("workspace.read", [Y, Y, Y, Y]),
    // Viewer: "… and audit logs".
    ("audit.read", [Y, Y, Y, Y]),
    // Operator: "start agent runs"; Viewer: "cannot trigger actions".
    ("run.start", [N, Y, Y, Y]),
    // Operator: running agents includes cancelling and resuming them; Viewer cannot trigger.
    ("run.control", [N, Y, Y, Y]),
    // Operator: "execute low-risk tools".
    ("tool.call", [N, Y, Y, Y]),
    // Operator: "confirm medium-risk actions"; Viewer: "cannot … approve".
    ("approval.confirm", [N, Y, Y, Y]),
    // Operator: "draft outputs".
    ("draft.write", [N, Y, Y, Y]),
    // Operator: agent runs write their memory as they work; Viewer only reads.
    ("memory.write", [N, Y, Y, Y]),
    // Approver: "approve or reject actions at the trust boundary"; Operator: "cannot approve
    // high/critical actions".
    ("approval.decide", [N, N, Y, Y]),
    // A standing grant is an approval given in advance: Approver, not Operator.
    ("grant.manage", [N, N, Y, Y]),
    // Admin: "membership and role assignment".
    ("member.manage", [N, N, N, Y]),
    // Admin: "tool permissions"; Operator: "cannot … change settings".
    ("tool.manage", [N, N, N, Y]),
    // Admin: "risk tiers".
    ("policy.manage", [N, N, N, Y]),
    // Admin: "credentials".
    ("credential.manage", [N, N, N, Y]),
    // Admin: "integration settings".
    ("settings.manage", [N, N, N, Y]),
    // Admin: "audit access" (export, archive) beyond reading.
    ("audit.manage", [N, N, N, Y]),
    // Admin: "keys".
    ("key.manage", [N, N, N, Y]),
    // Defining agents is configuration: Operator "cannot … change settings".
    ("agent.manage", [N, N, N, Y]),
    // Renaming and deleting a workspace is administration.
    ("workspace.manage", [N, N, N, Y]),
    // Erasing a person's data is administration.
    ("subject.erase", [N, N, N, Y]),
    // Organisation scope: "membership" covers the accounts that can become members.
    ("org.users", [N, N, N, Y]),
    // Organisation scope: workspaces per organisation are an Admin's.
    ("org.workspaces", [N, N, N, Y]),
    // Custom roles: "an Admin defines a named role as a subset of capabilities".
    ("org.roles", [N, N, N, Y]),
    // Organisation scope: "keys" (the KEK) and the instance audit log.
    ("org.security", [N, N, N, Y]),
];

#[test]
fn the_role_matrix_matches_the_wording_cell_by_cell() {
    let names: Vec<&str> = MATRIX.iter().map(|(name, _)| *name).collect();
    let all: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names, all, "the table lists every capability exactly once");
    let mut mismatches = Vec::new();
    for (name, row) in MATRIX {
        let capability = Capability::parse(name).unwrap();
        for (role, expected) in Role::ALL.iter().zip(row) {
            if role.capabilities().contains(capability) != *expected {
                mismatches.push(format!("{} / {name}: expected {expected}", role.title()));
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    // Each role holds everything the role below it holds.
    for pair in Role::ALL.windows(2) {
        assert!(
            pair[0].capabilities().is_subset_of(&pair[1].capabilities()),
            "{pair:?}"
        );
    }
}

#[tokio::test]
async fn the_api_reports_the_same_matrix() {
    let fx = Fixture::new().await;
    let admin = fx.admin().await;
    let roles = fx.instance.list_roles(&admin).await.unwrap();
    for (i, role) in Role::ALL.iter().enumerate() {
        let listed = roles
            .iter()
            .find(|r| r.builtin && r.id == role.name())
            .unwrap();
        let expected: Vec<&str> = MATRIX
            .iter()
            .filter(|(_, row)| row[i])
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(listed.capabilities, expected, "{}", role.title());
    }
    let me = fx.instance.whoami(&admin).await.unwrap();
    assert_eq!(me.org_capabilities.len(), MATRIX.len());
    assert_eq!(me.workspaces[0].capabilities.len(), MATRIX.len());
}
