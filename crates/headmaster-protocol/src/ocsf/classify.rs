//! Which OCSF class and activity an audit action maps to.
//!
//! Names and numbers come from the OCSF 1.9.0-dev schema files (kept in the crate's `ocsf/`
//! folder, where the schema test reads them). Captions must match the schema exactly because
//! `activity_name`, `class_name` and `type_name` are their siblings.
//!
//! Choices worth knowing:
//! - Account Change (3001) and User Access Management (3005) are deprecated in 1.9.0 in favour of
//!   User Management (3007), but they are what the SIEMs in the field (built on OCSF 1.0–1.8)
//!   understand, so user and membership changes stay on them.
//! - `auth.locked_out` is Account Change / Lock: the schema has exactly that activity ("a user
//!   account was locked out"), while Authentication has no lockout activity.
//! - `role.*` (a role's own lifecycle) is Role Management (3008): User Access Management
//!   requires a `user`, and creating a role has none.
//! - Everything else is API Activity (6003), with the CRUD activity guessed from the verb at the
//!   end of the action name and Other (99) where no CRUD verb fits.

/// The OCSF event classes Headmaster emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OcsfClass {
    /// Account Change, 3001.
    AccountChange,
    /// Authentication, 3002.
    Authentication,
    /// User Access Management, 3005.
    UserAccess,
    /// Role Management, 3008.
    RoleManagement,
    /// API Activity, 6003.
    ApiActivity,
}

/// A class and one of its activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The event class.
    pub class: OcsfClass,
    /// The class's `activity_id`; 99 (Other) when none fits.
    pub activity_id: u32,
    /// The schema caption of the activity, or the action name itself for Other.
    pub activity_name: String,
}

/// Every class, for counting and for tests.
pub const ALL_CLASSES: [OcsfClass; 5] = [
    OcsfClass::AccountChange,
    OcsfClass::Authentication,
    OcsfClass::UserAccess,
    OcsfClass::RoleManagement,
    OcsfClass::ApiActivity,
];

const OTHER: u32 = 99;

impl OcsfClass {
    /// The class's `class_uid`.
    pub fn uid(self) -> u32 {
        self.category_uid() * 1000 + self.number()
    }

    /// The class number within its category.
    fn number(self) -> u32 {
        match self {
            Self::AccountChange => 1,
            Self::Authentication => 2,
            Self::UserAccess => 5,
            Self::RoleManagement => 8,
            Self::ApiActivity => 3,
        }
    }

    /// The class's `category_uid`: Identity & Access Management (3) or Application Activity (6).
    pub fn category_uid(self) -> u32 {
        match self {
            Self::ApiActivity => 6,
            _ => 3,
        }
    }

    /// The schema caption of the class.
    pub fn name(self) -> &'static str {
        match self {
            Self::AccountChange => "Account Change",
            Self::Authentication => "Authentication",
            Self::UserAccess => "User Access Management",
            Self::RoleManagement => "Role Management",
            Self::ApiActivity => "API Activity",
        }
    }

    /// The schema caption of the category.
    pub fn category_name(self) -> &'static str {
        match self {
            Self::ApiActivity => "Application Activity",
            _ => "Identity & Access Management",
        }
    }
}

/// Maps a dotted action name (`auth.sign_in`, `tool.executed`, …) to its class and activity.
pub fn classify(action: &str) -> Classification {
    let (class, activity_id, activity_name) = classify_borrowed(action);
    Classification {
        class,
        activity_id,
        activity_name: activity_name.to_owned(),
    }
}

/// [`classify`] without allocating: the activity caption is a schema constant or, for Other,
/// the action itself. The export calls this once per event.
pub(super) fn classify_borrowed(action: &str) -> (OcsfClass, u32, &str) {
    let (prefix, verb) = action.split_once('.').unwrap_or((action, ""));
    let (class, found) = match prefix {
        "auth" if verb == "locked_out" => (OcsfClass::AccountChange, Some((9, "Lock"))),
        "auth" => (OcsfClass::Authentication, auth_activity(verb)),
        "user" => (OcsfClass::AccountChange, account_activity(verb)),
        "member" => (OcsfClass::UserAccess, member_activity(verb)),
        "role" => (OcsfClass::RoleManagement, role_activity(verb)),
        _ => (OcsfClass::ApiActivity, api_activity(verb)),
    };
    match found {
        Some((id, caption)) => (class, id, caption),
        None => (class, OTHER, action),
    }
}

fn auth_activity(verb: &str) -> Option<(u32, &'static str)> {
    match verb {
        "sign_in" | "sign_in_failed" => Some((1, "Logon")),
        "sign_out" | "session_expired" => Some((2, "Logoff")),
        _ => None,
    }
}

fn account_activity(verb: &str) -> Option<(u32, &'static str)> {
    match verb {
        "created" => Some((1, "Create")),
        "enabled" => Some((2, "Enable")),
        "password_changed" => Some((3, "Password Change")),
        "password_reset" => Some((4, "Password Reset")),
        "disabled" => Some((5, "Disable")),
        "deleted" => Some((6, "Delete")),
        "locked" => Some((9, "Lock")),
        "unlocked" => Some((12, "Unlock")),
        _ => None,
    }
}

fn member_activity(verb: &str) -> Option<(u32, &'static str)> {
    match verb {
        "added" | "role_changed" => Some((3, "Assign Role")),
        "removed" => Some((4, "Remove Role")),
        _ => None,
    }
}

fn role_activity(verb: &str) -> Option<(u32, &'static str)> {
    match verb {
        "created" => Some((1, "Create")),
        "updated" | "changed" => Some((2, "Update")),
        "deleted" => Some((3, "Delete")),
        _ => None,
    }
}

fn api_activity(verb: &str) -> Option<(u32, &'static str)> {
    match verb {
        "created" | "added" | "requested" | "granted" | "issued" | "proposed" | "enrolled"
        | "started" => Some((1, "Create")),
        "read" | "viewed" | "listed" | "queried" | "exported" | "verified" | "used" | "shown" => {
            Some((2, "Read"))
        }
        "updated" | "changed" | "enabled" | "disabled" | "rotated" | "approved" | "rejected"
        | "confirmed" | "renamed" | "resumed" | "cancelled" | "set" | "configured" | "tier_set"
        | "rewrapped" | "reencrypted" => Some((3, "Update")),
        "deleted" | "removed" | "revoked" | "erased" | "retired" => Some((4, "Delete")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_choose_the_class() {
        let cases = [
            ("auth.sign_in", OcsfClass::Authentication, 1),
            ("auth.sign_out", OcsfClass::Authentication, 2),
            ("auth.locked_out", OcsfClass::AccountChange, 9),
            ("user.password_changed", OcsfClass::AccountChange, 3),
            ("member.removed", OcsfClass::UserAccess, 4),
            ("role.created", OcsfClass::RoleManagement, 1),
            ("grant.revoked", OcsfClass::ApiActivity, 4),
            ("tool.executed", OcsfClass::ApiActivity, 99),
            ("access.denied", OcsfClass::ApiActivity, 99),
        ];
        for (action, class, activity) in cases {
            let c = classify(action);
            assert_eq!((c.class, c.activity_id), (class, activity), "{action}");
        }
    }

    #[test]
    fn other_carries_the_action_as_its_name() {
        assert_eq!(classify("run.stalled").activity_name, "run.stalled");
        assert_eq!(classify("auth.mystery").activity_id, 99);
    }

    #[test]
    fn class_uids_follow_the_category_rule() {
        let uids: Vec<u32> = ALL_CLASSES.iter().map(|c| c.uid()).collect();
        assert_eq!(uids, vec![3001, 3002, 3005, 3008, 6003]);
    }
}
