//! The audit events the audit suites append: what a busy workspace records, spread over a few
//! people and the system so that filters by actor select a fraction of the chain.

use headmaster_core::access::Role;
use headmaster_core::audit::{Actor, Correlation, NewEvent, Outcome};
use serde_json::json;

use crate::fixture::{source, Bench};

/// The people of the workload besides the Admin, with their workspace roles.
pub const PEOPLE: [(&str, Role); 3] = [
    ("bob", Role::Approver),
    ("carol", Role::Operator),
    ("dave", Role::Operator),
];

/// Actions, in the proportions they come round.
const ACTIONS: [(&str, Outcome); 6] = [
    ("tool.proposed", Outcome::Pending),
    ("tool.executed", Outcome::Allowed),
    ("approval.approved", Outcome::Allowed),
    ("auth.sign_in", Outcome::Allowed),
    ("tool.denied", Outcome::Denied),
    ("tool.executed", Outcome::Allowed),
];

/// The actors of a workload: the Admin and [`PEOPLE`] (each with their own subject key, so
/// their sources are sealed under it as in real use) and, for every tenth event, the system.
#[derive(Debug, Clone)]
pub struct Actors {
    /// (username, actor) of each person.
    pub people: Vec<(String, Actor)>,
}

impl Actors {
    /// Adds [`PEOPLE`] to the bench's workspace.
    pub async fn create(bench: &Bench) -> Self {
        let mut people = vec![(
            crate::fixture::ADMIN.to_string(),
            Actor::user(bench.admin.user_id),
        )];
        for (name, role) in PEOPLE {
            let session = bench.member(name, role).await;
            people.push((name.to_string(), Actor::user(session.user_id)));
        }
        Self { people }
    }

    /// The `i`-th event of the workload.
    pub fn event(&self, i: u64) -> NewEvent {
        let actor = if i % 10 == 9 {
            Actor::system()
        } else {
            self.people[(i as usize / 3) % self.people.len()].1.clone()
        };
        let (action, outcome) = ACTIONS[i as usize % ACTIONS.len()];
        NewEvent::new(actor, action, outcome, &source())
            .target("memory.write")
            .correlation(Correlation {
                run_id: format!("0193a1b2-0000-7000-8000-{:012x}", i / 50),
                step_id: format!("{}", i % 50),
                approval_id: String::new(),
            })
            .payload(json!({
                "action": "memory.write",
                "args_sha256": format!("{:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                "reasoning": "Keep the client's preferences for the weekly update.",
                "key": format!("client-notes-{}", i % 97),
            }))
    }
}
