//! What a caller asks for: the command to run, the sandbox's boundaries and its limits.
//!
//! Everything here is plain data with conservative defaults, so that `SandboxConfig::new(dir)`
//! is already a usable, locked-down profile: read-only system directories, writes only in the
//! workspace, no network, ten seconds, 256 MiB, 64 processes and 1 MiB of output per stream.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The command to run: a shell command line and the directory it starts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// Passed verbatim to `/bin/sh -c`, so pipes, redirections and `&&` work as in a terminal.
    pub command_line: String,
    /// Start directory relative to the workspace root; empty means the root itself. It must
    /// resolve inside the workspace (no absolute path, no `..` or symlink leading out).
    pub cwd: PathBuf,
}

impl CommandSpec {
    /// A command that starts in the workspace root.
    pub fn new(command_line: impl Into<String>) -> Self {
        Self {
            command_line: command_line.into(),
            cwd: PathBuf::new(),
        }
    }

    /// The same command, started in `cwd` (relative to the workspace root).
    pub fn in_dir(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = cwd.into();
        self
    }
}

/// The boundaries and limits of one sandboxed command.
///
/// `Debug` lists the names of the passed environment variables but never their values, because
/// those carry credentials injected at execution.
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// The only tree the command may write to (and its home and temporary directory). When the
    /// app runs as root, `run` hands this tree to [`RunAs`] (see [`crate::run`]).
    pub workspace_dir: PathBuf,
    /// Trees and files the command may read and execute. Paths that do not exist on this machine
    /// are skipped. The workspace is always readable and need not be listed.
    pub read_roots: Vec<PathBuf>,
    /// What the command may reach over the network.
    pub network: NetworkAccess,
    /// Time, memory, process, output and file limits.
    pub limits: Limits,
    /// Variables added to the clean base environment (`PATH`, `HOME`, `LANG`, `TMPDIR`); a name
    /// given here overrides the base value. Nothing is inherited from the app's environment.
    pub env: BTreeMap<String, String>,
    /// The unprivileged identity the command runs as when the app itself runs as root.
    pub run_as: RunAs,
}

impl SandboxConfig {
    /// The default profile around `workspace_dir`: [`default_read_roots`], no network,
    /// [`Limits::default`], no extra variables, and `nobody` when running as root.
    pub fn new(workspace_dir: impl Into<PathBuf>) -> Self {
        Self {
            workspace_dir: workspace_dir.into(),
            read_roots: default_read_roots(),
            network: NetworkAccess::Denied,
            limits: Limits::default(),
            env: BTreeMap::new(),
            run_as: RunAs::default(),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("workspace_dir", &self.workspace_dir)
            .field("read_roots", &self.read_roots)
            .field("network", &self.network)
            .field("limits", &self.limits)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("run_as", &self.run_as)
            .finish()
    }
}

/// Network reach of the command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetworkAccess {
    /// No sockets at all except `socketpair`: `socket()` fails with `EPERM` for every address
    /// family (IP, packet, netlink, vsock and also Unix, whose pathname sockets would reach
    /// host daemons such as D-Bus or Docker), and Landlock refuses TCP bind and connect.
    #[default]
    Denied,
    /// Outgoing TCP to these ports only (Landlock `ConnectTcp` rules); no listening, no UDP
    /// (so no DNS unless `/etc/hosts` answers) and no other address family.
    TcpConnect(Vec<u16>),
    /// IPv4/IPv6 of any kind to any port, plus netlink for interface queries; Unix, packet and
    /// other families stay refused.
    Unrestricted,
}

/// Resource limits; each one is enforced by the kernel or by the supervising parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time after which the whole process tree is killed.
    pub wall_time: Duration,
    /// CPU time per process (`RLIMIT_CPU`, whole seconds, at least one).
    pub cpu_time: Duration,
    /// Virtual address space per process (`RLIMIT_AS`).
    pub address_space_bytes: u64,
    /// Processes of the sandbox's user (`RLIMIT_NPROC`). It counts every process of that uid on
    /// the machine, which is why a dedicated [`RunAs`] uid is better than a shared one.
    pub max_processes: u64,
    /// Bytes kept from each of stdout and stderr; past it the command is stopped.
    pub max_output_bytes: usize,
    /// Largest file the command may write (`RLIMIT_FSIZE`).
    pub max_file_size_bytes: u64,
    /// Open file descriptors per process (`RLIMIT_NOFILE`).
    pub max_open_files: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall_time: Duration::from_secs(10),
            cpu_time: Duration::from_secs(10),
            address_space_bytes: 256 * MIB,
            max_processes: 64,
            max_output_bytes: MIB as usize,
            max_file_size_bytes: 64 * MIB,
            max_open_files: 256,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The uid and gid the command drops to when the app runs as root. Root keeps its capabilities
/// under Landlock (it could chmod or chown files outside the workspace) and ignores
/// `RLIMIT_NPROC`, so a root app never runs commands as root. When the app is not root, the
/// command runs as the app's own user and this is not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    /// User id, `nobody` (65534) by default.
    pub uid: u32,
    /// Group id, `nogroup` (65534) by default; supplementary groups are always cleared.
    pub gid: u32,
}

impl Default for RunAs {
    fn default() -> Self {
        Self {
            uid: 65534,
            gid: 65534,
        }
    }
}

/// The default read roots: the system's programs and libraries, and an allowlist of `/etc`
/// files that ordinary tools need (name service, dynamic linker, time zone, TLS certificates,
/// `alternatives` symlinks). `/etc` as a whole is not readable, so host configuration and
/// secrets that happen to be world-readable stay out of reach; `/proc`, `/sys`, `/home`,
/// `/root`, `/tmp` and `/var` are not readable either.
pub fn default_read_roots() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = SYSTEM_READ_ROOTS.iter().map(PathBuf::from).collect();
    roots.extend(python_config_dirs(Path::new("/etc")));
    roots
}

const SYSTEM_READ_ROOTS: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/etc/alternatives",
    "/etc/ca-certificates.conf",
    "/etc/gai.conf",
    "/etc/group",
    "/etc/host.conf",
    "/etc/hosts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/locale.alias",
    "/etc/localtime",
    "/etc/magic",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/os-release",
    "/etc/passwd",
    "/etc/protocols",
    "/etc/resolv.conf",
    "/etc/services",
    "/etc/ssl/certs",
    "/etc/ssl/openssl.cnf",
    "/etc/timezone",
];

/// Debian's Python reads `sitecustomize.py` through a symlink into `/etc/python3.X`; without it
/// every `python3` start prints a permission error.
fn python_config_dirs(etc: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(etc) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python3"))
        .map(|entry| entry.path())
        .collect();
    dirs.sort();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_environment_values() {
        let mut config = SandboxConfig::new("/srv/ws");
        config.env.insert("API_TOKEN".into(), "s3cr3t-value".into());
        let printed = format!("{config:?}");
        assert!(printed.contains("API_TOKEN"));
        assert!(!printed.contains("s3cr3t-value"));
    }

    #[test]
    fn default_roots_leave_etc_secrets_and_home_out() {
        let roots = default_read_roots();
        for forbidden in [
            "/etc",
            "/etc/shadow",
            "/root",
            "/home",
            "/proc",
            "/tmp",
            "/",
        ] {
            assert!(
                !roots.contains(&PathBuf::from(forbidden)),
                "{forbidden} is readable"
            );
        }
        assert!(roots.contains(&PathBuf::from("/usr")));
    }

    #[test]
    fn python_config_dirs_picks_only_python3_entries() {
        let etc = tempfile::tempdir().unwrap();
        for name in ["python3", "python3.11", "perl", "python2.7"] {
            std::fs::create_dir(etc.path().join(name)).unwrap();
        }
        let found = python_config_dirs(etc.path());
        assert_eq!(
            found,
            vec![etc.path().join("python3"), etc.path().join("python3.11")]
        );
    }
}
