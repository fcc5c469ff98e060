//! The workspace folder: checking that it can be the sandbox's writable tree, resolving the
//! start directory inside it, and handing it to the sandbox user when the app runs as root.
//!
//! A root app drops commands to an unprivileged uid, which cannot write files the app created
//! as root. `hand_over` therefore gives the tree to that uid. It walks from directory
//! descriptors (`openat` with `O_NOFOLLOW`, `chownat` with `AT_SYMLINK_NOFOLLOW`), so a symlink
//! or a swapped directory inside the workspace cannot redirect the root-privileged walk outside
//! it, and it leaves alone regular files with several hard links, one of which could be a
//! system file's other name.

use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{
    chownat, fchown, fstat, openat, statat, AtFlags, Dir, FileType, Gid, Mode, OFlags, Uid, CWD,
};

use crate::{RunAs, SandboxError};

/// Deepest directory nesting `hand_over` follows; deeper trees are refused rather than left
/// half owned.
const MAX_DEPTH: usize = 128;

/// Canonicalises the workspace and checks it is a directory that does not contain `/` or any
/// read root (making it writable would then open system files to the command).
pub(crate) fn resolve(dir: &Path, read_roots: &[PathBuf]) -> Result<PathBuf, SandboxError> {
    let refuse = |reason: String| SandboxError::Workspace {
        path: dir.to_path_buf(),
        reason,
    };
    let root = dir.canonicalize().map_err(|error| {
        refuse(format!(
            "it cannot be resolved ({error}); create the folder before running"
        ))
    })?;
    if !root.is_dir() {
        return Err(refuse("it is not a directory".into()));
    }
    if root.parent().is_none() {
        return Err(refuse("the filesystem root cannot be a workspace".into()));
    }
    for read_root in read_roots {
        let Ok(read_root) = read_root.canonicalize() else {
            continue;
        };
        if read_root.starts_with(&root) {
            return Err(refuse(format!(
                "it contains the read-only root {}; choose a folder of its own",
                read_root.display()
            )));
        }
    }
    Ok(root)
}

/// Resolves `cwd` (relative to the workspace) to an existing directory inside it.
pub(crate) fn resolve_cwd(root: &Path, cwd: &Path) -> Result<PathBuf, SandboxError> {
    let refuse = |reason| SandboxError::WorkingDirectory {
        cwd: cwd.to_path_buf(),
        reason,
    };
    if cwd.is_absolute() {
        return Err(refuse("it is an absolute path"));
    }
    if cwd.components().any(|part| part == Component::ParentDir) {
        return Err(refuse("it contains `..`"));
    }
    let resolved = root
        .join(cwd)
        .canonicalize()
        .map_err(|_| refuse("it does not exist"))?;
    if !resolved.starts_with(root) {
        return Err(refuse("a symlink leads out of the workspace"));
    }
    if !resolved.is_dir() {
        return Err(refuse("it is not a directory"));
    }
    Ok(resolved)
}

/// Gives the workspace tree to `run_as` (see the module documentation).
pub(crate) fn hand_over(root: &Path, run_as: RunAs) -> Result<(), SandboxError> {
    let owner = Owner {
        uid: Uid::from_raw(run_as.uid),
        gid: Gid::from_raw(run_as.gid),
    };
    let fail = |error: rustix::io::Errno| SandboxError::Workspace {
        path: root.to_path_buf(),
        reason: format!(
            "it could not be handed to uid {} ({error}); check that the folder is on a local \
             filesystem the app may chown",
            run_as.uid
        ),
    };
    let dir = openat(CWD, root, directory_flags(), Mode::empty()).map_err(fail)?;
    owner.walk(&dir, 0).map_err(|error| match error {
        WalkError::Os(errno) => fail(errno),
        WalkError::TooDeep => SandboxError::Workspace {
            path: root.to_path_buf(),
            reason: format!("it nests deeper than {MAX_DEPTH} directories"),
        },
    })
}

fn directory_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

struct Owner {
    uid: Uid,
    gid: Gid,
}

enum WalkError {
    Os(rustix::io::Errno),
    TooDeep,
}

impl From<rustix::io::Errno> for WalkError {
    fn from(errno: rustix::io::Errno) -> Self {
        WalkError::Os(errno)
    }
}

impl Owner {
    /// Chowns `dir` itself, then everything below it.
    fn walk(&self, dir: &OwnedFd, depth: usize) -> Result<(), WalkError> {
        if depth > MAX_DEPTH {
            return Err(WalkError::TooDeep);
        }
        let stat = fstat(dir)?;
        if !self.owns(stat.st_uid, stat.st_gid) {
            fchown(dir, Some(self.uid), Some(self.gid))?;
        }
        for entry in Dir::read_from(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if is_dot(name) {
                continue;
            }
            let stat = statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
            match FileType::from_raw_mode(stat.st_mode) {
                FileType::Directory => {
                    let child = openat(dir, name, directory_flags(), Mode::empty())?;
                    self.walk(&child, depth + 1)?;
                }
                FileType::RegularFile if stat.st_nlink > 1 => {}
                _ if self.owns(stat.st_uid, stat.st_gid) => {}
                _ => chownat(
                    dir.as_fd(),
                    name,
                    Some(self.uid),
                    Some(self.gid),
                    AtFlags::SYMLINK_NOFOLLOW,
                )?,
            }
        }
        Ok(())
    }

    fn owns(&self, uid: u32, gid: u32) -> bool {
        uid == self.uid.as_raw() && gid == self.gid.as_raw()
    }
}

fn is_dot(name: &CStr) -> bool {
    matches!(name.to_bytes(), b"." | b"..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn workspace_must_not_contain_a_read_root() {
        let outer = tempfile::tempdir().unwrap();
        let inner = outer.path().join("usr");
        std::fs::create_dir(&inner).unwrap();
        let error = resolve(outer.path(), &[inner]).unwrap_err();
        assert!(
            error.to_string().contains("contains the read-only root"),
            "{error}"
        );
        assert!(resolve(Path::new("/"), &[]).is_err());
        assert!(resolve(outer.path(), &[PathBuf::from("/usr")]).is_ok());
    }

    #[test]
    fn cwd_must_stay_inside_the_workspace() {
        let root = tempfile::tempdir().unwrap();
        let root_path = root.path().canonicalize().unwrap();
        std::fs::create_dir(root_path.join("sub")).unwrap();
        std::os::unix::fs::symlink("/usr", root_path.join("out")).unwrap();
        assert_eq!(
            resolve_cwd(&root_path, Path::new("sub")).unwrap(),
            root_path.join("sub")
        );
        assert_eq!(resolve_cwd(&root_path, Path::new("")).unwrap(), root_path);
        for (cwd, reason) in [
            ("/usr", "absolute"),
            ("sub/../..", "`..`"),
            ("out", "symlink"),
            ("missing", "does not exist"),
        ] {
            let error = resolve_cwd(&root_path, Path::new(cwd)).unwrap_err();
            assert!(error.to_string().contains(reason), "{cwd}: {error}");
        }
    }

    #[test]
    fn hand_over_chowns_the_tree_but_not_symlink_targets_or_hard_links() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("target");
        std::fs::write(&target, b"system file").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("a/b")).unwrap();
        std::fs::write(root.path().join("a/b/file"), b"x").unwrap();
        std::os::unix::fs::symlink(&target, root.path().join("a/link")).unwrap();
        std::fs::hard_link(&target, root.path().join("a/hard")).unwrap();

        hand_over(
            root.path(),
            RunAs {
                uid: 4_000_123,
                gid: 4_000_123,
            },
        )
        .unwrap();

        for owned in ["", "a", "a/b", "a/b/file"] {
            let meta = std::fs::symlink_metadata(root.path().join(owned)).unwrap();
            assert_eq!((meta.uid(), meta.gid()), (4_000_123, 4_000_123), "{owned}");
        }
        let link = std::fs::symlink_metadata(root.path().join("a/link")).unwrap();
        assert_eq!(link.uid(), 4_000_123);
        assert_eq!(
            std::fs::metadata(&target).unwrap().uid(),
            0,
            "symlink target or hard link chowned"
        );
    }
}
