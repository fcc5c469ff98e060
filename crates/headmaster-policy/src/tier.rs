//! Risk tiers, the decisions they map to, and the built-in role ladder.
//!
//! A tier is what an Admin configures; a [`Decision`] is what the gate does with a call.
//! The mapping between the two is fixed here, in one place, so that every screen and every
//! audit record agrees on who must decide what.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How risky a call is. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "TEXT", rename_all = "lowercase")
)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Tier {
    /// Runs without a human.
    Low,
    /// An Operator (or higher) confirms.
    Medium,
    /// One Approver signs off.
    High,
    /// Two distinct Approvers sign off.
    Critical,
}

impl Tier {
    /// Every tier, least risky first.
    pub const ALL: [Tier; 4] = [Tier::Low, Tier::Medium, Tier::High, Tier::Critical];

    /// The lowercase name used in JSON, the CLI and reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Low => "low",
            Tier::Medium => "medium",
            Tier::High => "high",
            Tier::Critical => "critical",
        }
    }

    /// The decision the gate takes for a call of this tier when nothing denies it.
    pub fn decision(self) -> Decision {
        match self {
            Tier::Low => Decision::Allow,
            Tier::Medium => Decision::NeedsConfirmation,
            Tier::High => Decision::NeedsApproval { quorum: 1 },
            Tier::Critical => Decision::NeedsApproval { quorum: 2 },
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tier {
    type Err = crate::PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Tier::Low),
            "medium" => Ok(Tier::Medium),
            "high" => Ok(Tier::High),
            "critical" => Ok(Tier::Critical),
            _ => Err(crate::PolicyError::UnknownTier(s.to_owned())),
        }
    }
}

/// What the gate does with a proposed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Decision {
    /// Execute now.
    Allow,
    /// Wait until an Operator or higher confirms.
    NeedsConfirmation,
    /// Wait until `quorum` distinct Approvers sign off.
    NeedsApproval {
        /// How many distinct Approvers must sign off (1 for high, 2 for critical).
        quorum: u8,
    },
    /// Refuse.
    Deny,
}

impl Decision {
    /// Strictness rank used to compare decisions: Allow < confirm < approve(1) < approve(2) < deny.
    pub fn strictness(self) -> u8 {
        match self {
            Decision::Allow => 0,
            Decision::NeedsConfirmation => 1,
            Decision::NeedsApproval { quorum } => 1 + quorum.max(1),
            Decision::Deny => u8::MAX,
        }
    }
}

/// The four built-in roles, least privileged first. They nest: every Admin is an Approver,
/// every Approver an Operator, every Operator a Viewer, which is why the order matters. The same
/// enum names a person's role in the policy's conditions and in membership (whose capability
/// matrix the core defines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(
    feature = "sqlx",
    derive(sqlx::Type),
    sqlx(type_name = "TEXT", rename_all = "lowercase")
)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Role {
    /// Reads, never decides.
    Viewer,
    /// Confirms medium-tier calls.
    Operator,
    /// Signs off high and critical calls.
    Approver,
    /// Configures the workspace.
    Admin,
}

impl Role {
    /// All four, least privileged first.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin];

    /// The stable lowercase name (stored, in JSON, in policy text, on the command line).
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// The capitalised name shown to people.
    pub fn title(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Operator => "Operator",
            Role::Approver => "Approver",
            Role::Admin => "Admin",
        }
    }

    /// Parses a role name, case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_map_to_the_documented_decisions() {
        assert_eq!(Tier::Low.decision(), Decision::Allow);
        assert_eq!(Tier::Medium.decision(), Decision::NeedsConfirmation);
        assert_eq!(Tier::High.decision(), Decision::NeedsApproval { quorum: 1 });
        assert_eq!(
            Tier::Critical.decision(),
            Decision::NeedsApproval { quorum: 2 }
        );
    }

    #[test]
    fn strictness_follows_the_tier_order_and_deny_is_strictest() {
        let ranks: Vec<u8> = [Tier::Low, Tier::Medium, Tier::High, Tier::Critical]
            .iter()
            .map(|t| t.decision().strictness())
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
        assert!(Decision::Deny.strictness() > ranks[3]);
    }

    #[test]
    fn tier_names_parse_case_insensitively_and_reject_others() {
        assert_eq!("HIGH".parse::<Tier>().unwrap(), Tier::High);
        assert!("severe".parse::<Tier>().is_err());
        assert!(Role::Viewer < Role::Operator && Role::Approver < Role::Admin);
    }
}
