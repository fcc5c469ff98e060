//! The Headmaster side: the same 30 rules expressed in Headmaster's policy model
//! (`cedar/headmaster-policy.json`: permit rules make each tool an allow-list, deny rules are
//! Cedar's forbids), the scenario's users as principals, and one argument object per request.

use crate::scenario::{self, Request, User};
use anyhow::{Context as _, Result};
use headmaster_policy::{CompiledPolicy, Decision, Principal, ProposedCall, Role, WorkspacePolicy};
use serde_json::{json, Value};

pub const POLICY: &str = include_str!("../cedar/headmaster-policy.json");

/// Everything Headmaster needs to decide.
pub struct HeadmasterEngine {
    pub policy: CompiledPolicy,
    principals: Vec<Principal>,
    calls: Vec<(&'static str, &'static str, usize, Value, bool)>,
}

impl HeadmasterEngine {
    pub fn new(users: &[User], requests: &[Request]) -> Result<Self> {
        let source: WorkspacePolicy =
            serde_json::from_str(POLICY).context("parsing headmaster-policy.json")?;
        let policy = CompiledPolicy::new(&source).context("compiling headmaster-policy.json")?;
        let principals = users.iter().map(principal).collect();
        let calls = requests
            .iter()
            .map(|r| {
                let (tool, action) = scenario::TOOLS[r.tool]
                    .split_once('.')
                    .expect("scenario tools are tool.action");
                let args = json!({
                    "recipient_domain": r.recipient_domain,
                    "recipient_count": r.recipient_count,
                    "path_prefix": r.path_prefix,
                    "http_method": r.http_method,
                    "amount": r.amount,
                });
                (tool, action, r.user, args, r.crosses_boundary)
            })
            .collect();
        Ok(HeadmasterEngine {
            policy,
            principals,
            calls,
        })
    }

    fn call(&self, i: usize) -> ProposedCall<'_> {
        let (tool, action, user, args, crosses) = &self.calls[i];
        let mut call = ProposedCall::new(tool, action, args, &self.principals[*user]);
        call.crosses_boundary = *crosses;
        call
    }

    /// The fast path (`assess`): is request `i` allowed to proceed (not denied)?
    #[inline(never)]
    pub fn allowed(&self, i: usize) -> bool {
        self.policy.assess(&self.call(i)).decision != Decision::Deny
    }

    /// The explaining path (`decide`, with reasons), for its own timing.
    #[inline(never)]
    pub fn allowed_with_reasons(&self, i: usize) -> bool {
        self.policy.decide(&self.call(i)).decision != Decision::Deny
    }

    /// The reasons for request `i`, to print next to a disagreement.
    pub fn reasons(&self, i: usize) -> Vec<String> {
        self.policy.decide(&self.call(i)).reasons
    }
}

fn principal(user: &User) -> Principal {
    let role = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin][user.role];
    let mut p = Principal::user(user.id.clone(), role)
        .with_attribute("oncall", json!(user.oncall))
        .with_attribute("suspended", json!(user.suspended));
    if user.contractor {
        p = p.with_group("contractors");
    }
    p
}
