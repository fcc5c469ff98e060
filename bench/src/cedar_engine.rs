//! The Cedar side: policies and schema from `cedar/`, the scenario's entities, and one
//! schema-validated `Request` per generated request (built before timing starts).

use crate::scenario::{self, Request, User};
use anyhow::{Context as _, Result};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicySet, RestrictedExpression,
    Schema,
};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

pub const POLICIES: &str = include_str!("../cedar/policies.cedar");
pub const SCHEMA: &str = include_str!("../cedar/schema.cedarschema");

/// Everything Cedar needs to decide.
pub struct CedarEngine {
    pub authorizer: Authorizer,
    pub policies: PolicySet,
    pub entities: Entities,
    pub requests: Vec<cedar_policy::Request>,
}

impl CedarEngine {
    pub fn new(users: &[User], requests: &[Request]) -> Result<Self> {
        let policies = PolicySet::from_str(POLICIES).context("parsing policies.cedar")?;
        let (schema, _warnings) =
            Schema::from_cedarschema_str(SCHEMA).context("parsing schema.cedarschema")?;
        let entities = Entities::from_entities(entities(users)?, Some(&schema))
            .context("building the entity set")?;
        let action = uid("Action", "propose")?;
        let requests = requests
            .iter()
            .map(|r| {
                let context = Context::from_pairs([
                    (
                        "recipient_domain".to_owned(),
                        RestrictedExpression::new_string(r.recipient_domain.to_owned()),
                    ),
                    (
                        "recipient_count".to_owned(),
                        RestrictedExpression::new_long(r.recipient_count),
                    ),
                    (
                        "path_prefix".to_owned(),
                        RestrictedExpression::new_string(r.path_prefix.to_owned()),
                    ),
                    (
                        "http_method".to_owned(),
                        RestrictedExpression::new_string(r.http_method.to_owned()),
                    ),
                    (
                        "crosses_boundary".to_owned(),
                        RestrictedExpression::new_bool(r.crosses_boundary),
                    ),
                    (
                        "amount".to_owned(),
                        RestrictedExpression::new_long(r.amount),
                    ),
                ])?;
                Ok(cedar_policy::Request::new(
                    uid("User", &users[r.user].id)?,
                    action.clone(),
                    uid("Tool", scenario::TOOLS[r.tool])?,
                    context,
                    Some(&schema),
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CedarEngine {
            authorizer: Authorizer::new(),
            policies,
            entities,
            requests,
        })
    }

    /// Cedar's decision for request `i`.
    #[inline(never)]
    pub fn allowed(&self, i: usize) -> bool {
        self.authorizer
            .is_authorized(&self.requests[i], &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }
}

impl CedarEngine {
    /// The ids of the policies that determined Cedar's decision for request `i`.
    pub fn reasons(&self, i: usize) -> Vec<String> {
        self.authorizer
            .is_authorized(&self.requests[i], &self.policies, &self.entities)
            .diagnostics()
            .reason()
            .map(|id| {
                self.policies
                    .policy(id)
                    .and_then(|p| p.annotation("id"))
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    }
}

fn uid(kind: &str, id: &str) -> Result<EntityUid> {
    EntityUid::from_str(&format!("{kind}::{id:?}")).with_context(|| format!("entity {kind}::{id}"))
}

fn entities(users: &[User]) -> Result<Vec<Entity>> {
    let mut out = Vec::new();
    for (i, role) in scenario::ROLES.iter().enumerate() {
        let parents = match i {
            0 => HashSet::new(),
            _ => HashSet::from([uid("Role", scenario::ROLES[i - 1])?]),
        };
        out.push(Entity::new_no_attrs(uid("Role", role)?, parents));
    }
    out.push(Entity::new_no_attrs(
        uid("Workspace", "contractors")?,
        HashSet::new(),
    ));
    for (group, _) in scenario::GROUPS {
        out.push(Entity::new_no_attrs(
            uid("ToolGroup", group)?,
            HashSet::new(),
        ));
    }
    for tool in scenario::TOOLS {
        let parents = scenario::GROUPS
            .iter()
            .filter(|(_, members)| members.contains(&tool))
            .map(|(g, _)| uid("ToolGroup", g))
            .collect::<Result<HashSet<_>>>()?;
        out.push(Entity::new_no_attrs(uid("Tool", tool)?, parents));
    }
    for user in users {
        let mut parents = HashSet::from([uid("Role", scenario::ROLES[user.role])?]);
        if user.contractor {
            parents.insert(uid("Workspace", "contractors")?);
        }
        let attrs = HashMap::from([
            (
                "role".to_owned(),
                RestrictedExpression::new_string(scenario::ROLES[user.role].to_owned()),
            ),
            (
                "oncall".to_owned(),
                RestrictedExpression::new_bool(user.oncall),
            ),
            (
                "suspended".to_owned(),
                RestrictedExpression::new_bool(user.suspended),
            ),
        ]);
        out.push(Entity::new(uid("User", &user.id)?, attrs, parents)?);
    }
    Ok(out)
}
