//! The Landlock half of the sandbox: which files the command may read or write and which TCP
//! ports it may reach.
//!
//! The ruleset handles every filesystem right and scope of the ABI it targets, with
//! `CompatLevel::HardRequirement`, so building it fails rather than silently dropping a right
//! the kernel does not know. It then allows:
//! - read and execute (`Execute`, `ReadFile`, `ReadDir`) under each read root;
//! - every right except creating character and block devices under the workspace;
//! - read, write and truncate on `/dev/null`, read on `/dev/zero`, `/dev/random`, `/dev/urandom`;
//! - TCP connect to the allowed ports, and no TCP bind, unless the network is unrestricted
//!   (Landlock can only allow ports one by one, so "any port" means not handling TCP at all).
//!
//! The scopes keep the command from signalling processes outside the sandbox and from
//! connecting to abstract Unix sockets created outside it.

use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};

use crate::{NetworkAccess, SandboxError};

/// The newest Landlock ABI this crate was tested against; newer kernels are used at this level,
/// so a right added later (and never exercised by our tests) cannot change behaviour silently.
pub(crate) const TESTED_ABI: ABI = ABI::V7;

/// The oldest ABI accepted: 6 brings the signal and abstract-socket scopes (Linux 6.12), on
/// top of TCP rules (4), truncate control (3) and cross-directory rename/link control (2).
pub(crate) const REQUIRED_ABI: ABI = ABI::V6;

/// Device files every shell expects.
const DEVICES: &[(&str, DeviceAccess)] = &[
    ("/dev/null", DeviceAccess::ReadWrite),
    ("/dev/zero", DeviceAccess::Read),
    ("/dev/random", DeviceAccess::Read),
    ("/dev/urandom", DeviceAccess::Read),
];

/// Builds the ruleset in the parent; the child only calls `restrict_self` on it.
pub(crate) fn build(
    abi: ABI,
    workspace: &Path,
    read_roots: &[PathBuf],
    network: &NetworkAccess,
) -> Result<RulesetCreated, SandboxError> {
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))?
        .scope(Scope::from_all(abi))?;
    if *network != NetworkAccess::Unrestricted {
        ruleset = ruleset.handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)?;
    }
    let mut created = ruleset.create()?;

    for root in read_roots {
        if let Some(rule) = path_rule(root, AccessFs::from_read(abi), abi) {
            created = created.add_rule(rule)?;
        }
    }
    for (device, access) in DEVICES {
        if let Some(rule) = path_rule(Path::new(device), access.rights(), abi) {
            created = created.add_rule(rule)?;
        }
    }
    let workspace_fd = PathFd::new(workspace).map_err(|error| SandboxError::Workspace {
        path: workspace.to_path_buf(),
        reason: format!("it could not be opened for the Landlock rule ({error})"),
    })?;
    created = created.add_rule(PathBeneath::new(workspace_fd, workspace_rights(abi)))?;

    if let NetworkAccess::TcpConnect(ports) = network {
        for port in ports {
            created = created.add_rule(NetPort::new(*port, AccessNet::ConnectTcp))?;
        }
    }
    Ok(created)
}

/// Everything in the workspace except minting device nodes, which would open raw devices.
pub(crate) fn workspace_rights(abi: ABI) -> BitFlags<AccessFs> {
    AccessFs::from_all(abi) & !(AccessFs::MakeChar | AccessFs::MakeBlock)
}

#[derive(Debug, Clone, Copy)]
enum DeviceAccess {
    Read,
    ReadWrite,
}

impl DeviceAccess {
    fn rights(self) -> BitFlags<AccessFs> {
        match self {
            DeviceAccess::Read => AccessFs::ReadFile.into(),
            DeviceAccess::ReadWrite => {
                AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate
            }
        }
    }
}

/// A rule for `path` if it exists; a file gets only the rights that make sense for files
/// (Landlock rejects directory rights on a file). A root that cannot be opened is skipped,
/// which only ever takes access away.
fn path_rule(path: &Path, rights: BitFlags<AccessFs>, abi: ABI) -> Option<PathBeneath<PathFd>> {
    let is_dir = std::fs::metadata(path).ok()?.is_dir();
    let rights = if is_dir {
        rights
    } else {
        rights & AccessFs::from_file(abi)
    };
    let fd = PathFd::new(path).ok()?;
    Some(PathBeneath::new(fd, rights))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_rights_exclude_device_creation_only() {
        let rights = workspace_rights(TESTED_ABI);
        assert!(!rights.contains(AccessFs::MakeChar));
        assert!(!rights.contains(AccessFs::MakeBlock));
        for kept in [
            AccessFs::WriteFile,
            AccessFs::Refer,
            AccessFs::Truncate,
            AccessFs::MakeSym,
        ] {
            assert!(rights.contains(kept), "{kept:?} missing");
        }
    }

    #[test]
    fn missing_paths_are_skipped_existing_files_kept() {
        assert!(path_rule(
            Path::new("/does/not/exist"),
            AccessFs::from_read(TESTED_ABI),
            TESTED_ABI
        )
        .is_none());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(path_rule(&file, AccessFs::from_read(TESTED_ABI), TESTED_ABI).is_some());
    }

    #[test]
    fn devices_are_never_executable() {
        for (_, access) in DEVICES {
            assert!(!access.rights().contains(AccessFs::Execute));
        }
    }
}
