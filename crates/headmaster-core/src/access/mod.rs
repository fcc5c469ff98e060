//! Access: the four roles as a capability matrix, custom roles, workspaces and membership, and
//! the one gate every operation passes ([`Instance::authorize`](crate::instance::Instance)).

mod capability;
mod gate;
mod members;
mod roles;
mod workspaces;

pub use capability::{policy_role, Capability, CapabilitySet, Role, RoleCapabilities};
pub use gate::{Authorized, Scope};
pub use members::MemberSummary;
pub use roles::RoleSummary;
pub use workspaces::WorkspaceSummary;
