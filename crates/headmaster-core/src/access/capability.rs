//! Capabilities and the built-in role matrix, defined once.
//!
//! The matrix follows the product's wording:
//! - Viewer: read workspace state, agent outputs and audit logs; cannot trigger actions or approve.
//! - Operator: start agent runs, execute low-risk tools, confirm medium-risk actions, draft
//!   outputs; cannot approve high/critical actions or change settings.
//! - Approver: everything an Operator can, plus approve or reject actions at the trust boundary.
//! - Admin: membership and role assignment, tool permissions, risk tiers, credentials,
//!   integration settings, audit access, keys — and everything an Approver can, because nobody
//!   may grant a capability they do not hold: an Admin who could not approve could not appoint
//!   Approvers.
//!
//! The same roles apply at two scopes: in a workspace (through membership) and in the
//! organisation (each user's org role, for users, workspaces, custom roles and the KEK).

use std::fmt;

macro_rules! capabilities {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// One permission. Names are stable (stored in custom roles, shown in errors).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Capability {
            $($(#[$doc])* $variant,)*
        }

        impl Capability {
            /// Every capability, in declaration order.
            pub const ALL: &'static [Capability] = &[$(Capability::$variant,)*];

            /// The stable name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Capability::$variant => $name,)*
                }
            }

            /// Parses a stable name.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(Capability::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

capabilities! {
    /// Read workspace state: agents, runs, drafts, memory, approvals, tools and policy.
    WorkspaceRead = "workspace.read",
    /// Read and verify the audit log.
    AuditRead = "audit.read",
    /// Start agent runs.
    RunStart = "run.start",
    /// Cancel or resume runs.
    RunControl = "run.control",
    /// Propose tool calls; low-risk calls execute at once.
    ToolCall = "tool.call",
    /// Confirm medium-risk actions.
    ApprovalConfirm = "approval.confirm",
    /// Save drafts (agent outputs for review).
    DraftWrite = "draft.write",
    /// Write workspace memory.
    MemoryWrite = "memory.write",
    /// Approve or reject high and critical actions at the trust boundary.
    ApprovalDecide = "approval.decide",
    /// Create and revoke standing grants.
    GrantManage = "grant.manage",
    /// Add and remove members, assign roles.
    MemberManage = "member.manage",
    /// Enable, disable and configure tools.
    ToolManage = "tool.manage",
    /// Set risk tiers and argument rules.
    PolicyManage = "policy.manage",
    /// Manage credentials.
    CredentialManage = "credential.manage",
    /// Integration settings (server URL, sync).
    SettingsManage = "settings.manage",
    /// Export and archive the audit log.
    AuditManage = "audit.manage",
    /// Rotate the workspace's keys.
    KeyManage = "key.manage",
    /// Define and delete agents.
    AgentManage = "agent.manage",
    /// Rename or delete the workspace.
    WorkspaceManage = "workspace.manage",
    /// Erase a data subject (GDPR).
    SubjectErase = "subject.erase",
    /// Organisation: add, list and disable users.
    OrgUsers = "org.users",
    /// Organisation: create workspaces.
    OrgWorkspaces = "org.workspaces",
    /// Organisation: define custom roles.
    OrgRoles = "org.roles",
    /// Organisation: rotate the key-encryption key, read the instance audit log.
    OrgSecurity = "org.security",
}

/// A set of capabilities.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapabilitySet(u32);

impl CapabilitySet {
    /// The empty set.
    pub const EMPTY: CapabilitySet = CapabilitySet(0);

    /// A set from a list.
    pub fn of(caps: &[Capability]) -> Self {
        caps.iter().fold(Self::EMPTY, |set, c| set.with(*c))
    }

    /// This set plus `cap`.
    pub const fn with(self, cap: Capability) -> Self {
        CapabilitySet(self.0 | (1 << cap as u32))
    }

    /// Whether `cap` is in the set.
    pub fn contains(&self, cap: Capability) -> bool {
        self.0 & (1 << cap as u32) != 0
    }

    /// Whether every capability of `self` is also in `other`.
    pub fn is_subset_of(&self, other: &CapabilitySet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The capabilities in `self` but not in `other`.
    pub fn difference(&self, other: &CapabilitySet) -> CapabilitySet {
        CapabilitySet(self.0 & !other.0)
    }

    /// The capabilities, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        Capability::ALL
            .iter()
            .copied()
            .filter(|c| self.contains(*c))
    }

    /// The stable names.
    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(|c| c.name()).collect()
    }

    /// Parses a list of names; unknown names are an error naming them.
    pub fn parse_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut set = Self::EMPTY;
        for name in names {
            let name = name.as_ref().trim();
            let cap = Capability::parse(name).ok_or_else(|| {
                format!(
                    "unknown capability {name:?}; known capabilities: {}",
                    Capability::ALL
                        .iter()
                        .map(|c| c.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            set = set.with(cap);
        }
        Ok(set)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

pub use headmaster_policy::Role;

/// The capability matrix of the built-in roles. (The role enum itself lives with the policy
/// engine, whose conditions name roles too; what each role may do is the core's business.)
pub trait RoleCapabilities {
    /// The role's capabilities.
    fn capabilities(&self) -> CapabilitySet;
}

impl RoleCapabilities for Role {
    fn capabilities(&self) -> CapabilitySet {
        use Capability::*;
        let viewer = CapabilitySet::of(&[WorkspaceRead, AuditRead]);
        let operator = CapabilitySet::of(&[
            RunStart,
            RunControl,
            ToolCall,
            ApprovalConfirm,
            DraftWrite,
            MemoryWrite,
        ]);
        let approver = CapabilitySet::of(&[ApprovalDecide, GrantManage]);
        let admin = CapabilitySet::of(&[
            MemberManage,
            ToolManage,
            PolicyManage,
            CredentialManage,
            SettingsManage,
            AuditManage,
            KeyManage,
            AgentManage,
            WorkspaceManage,
            SubjectErase,
            OrgUsers,
            OrgWorkspaces,
            OrgRoles,
            OrgSecurity,
        ]);
        let union = |a: CapabilitySet, b: CapabilitySet| CapabilitySet(a.0 | b.0);
        match self {
            Role::Viewer => viewer,
            Role::Operator => union(viewer, operator),
            Role::Approver => union(union(viewer, operator), approver),
            Role::Admin => union(union(union(viewer, operator), approver), admin),
        }
    }
}

/// The built-in role that a set of capabilities amounts to, for the policy's role conditions
/// (`role >= approver`): the most privileged role whose defining capability the set holds.
/// A custom role with `approval.decide` counts as an Approver, one with `member.manage` as an
/// Admin, one with `tool.call` as an Operator; anything else as a Viewer.
pub fn policy_role(caps: &CapabilitySet) -> Role {
    let defining = |role: Role| match role {
        Role::Admin => Some(Capability::MemberManage),
        Role::Approver => Some(Capability::ApprovalDecide),
        Role::Operator => Some(Capability::ToolCall),
        Role::Viewer => None,
    };
    Role::ALL
        .into_iter()
        .rev()
        .find(|r| defining(*r).is_some_and(|c| caps.contains(c)))
        .unwrap_or(Role::Viewer)
}
