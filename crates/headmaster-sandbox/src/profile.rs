//! The human-readable sandbox profile shown to reviewers before a command runs and recorded
//! with its outcome.
//!
//! `SandboxConfig::describe` depends only on the configuration, so an approval request can
//! show it before anything runs; `run` appends how this machine enforced it.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::launch::BASE_VARIABLES;
use crate::{NetworkAccess, RunAs, SandboxConfig, SandboxSupport};

impl SandboxConfig {
    /// One line a reviewer can read, e.g. "read-only: /usr, /bin, /etc/{hosts, passwd};
    /// writes only in /srv/ws; no network; limits: 10 s wall, 10 s CPU, 256 MiB memory,
    /// 64 processes, 1 MiB output per stream, 64 MiB per file, 256 open files; clean
    /// environment (PATH, HOME, LANG, TMPDIR)". Read roots missing on this machine are left
    /// out; passed variables are named, never shown.
    pub fn describe(&self) -> String {
        let limits = &self.limits;
        let mut text = format!(
            "read-only: {}; writes only in {}; {}; limits: {} wall, {} CPU, {} memory, {} \
             processes, {} output per stream, {} per file, {} open files; clean environment ({})",
            group_paths(self.read_roots.iter().filter(|root| root.exists())),
            self.workspace_dir.display(),
            describe_network(&self.network),
            duration(limits.wall_time),
            duration(limits.cpu_time),
            bytes(limits.address_space_bytes),
            limits.max_processes,
            bytes(limits.max_output_bytes as u64),
            bytes(limits.max_file_size_bytes),
            limits.max_open_files,
            BASE_VARIABLES.join(", "),
        );
        if !self.env.is_empty() {
            let names: Vec<&str> = self.env.keys().map(String::as_str).collect();
            let _ = write!(text, " plus {}", names.join(", "));
        }
        text
    }
}

/// The enforcement facts `run` appends to [`SandboxConfig::describe`].
pub(crate) fn enforcement(support: &SandboxSupport, identity: Option<RunAs>) -> String {
    let user = match identity {
        Some(run_as) => format!("as uid {} gid {}", run_as.uid, run_as.gid),
        None => "as the app's own user".to_owned(),
    };
    format!(
        "enforced by Landlock ABI {} and seccomp; {}; {user}",
        support.ruleset_abi() as u32,
        support.containment
    )
}

fn describe_network(network: &NetworkAccess) -> String {
    match network {
        NetworkAccess::Denied => "no network".to_owned(),
        NetworkAccess::TcpConnect(ports) if ports.is_empty() => "no network".to_owned(),
        NetworkAccess::TcpConnect(ports) => {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            format!(
                "network: TCP connect to port {} only, no UDP",
                ports.join(", ")
            )
        }
        NetworkAccess::Unrestricted => "network: unrestricted IPv4/IPv6".to_owned(),
    }
}

/// Lists paths, folding siblings under one parent: `/etc/{hosts, passwd}`.
fn group_paths<'a>(paths: impl Iterator<Item = &'a PathBuf>) -> String {
    let mut groups: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for path in paths {
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if parent != Path::new("/") => {
                (parent.to_path_buf(), name.to_string_lossy().into_owned())
            }
            _ => (path.clone(), String::new()),
        };
        match groups
            .iter_mut()
            .find(|(existing, names)| *existing == parent && !names.is_empty())
        {
            Some((_, names)) if !name.is_empty() => names.push(name),
            _ => groups.push((
                parent,
                if name.is_empty() {
                    Vec::new()
                } else {
                    vec![name]
                },
            )),
        }
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(parent, names)| match names.as_slice() {
            [] => parent.display().to_string(),
            [one] => parent.join(one).display().to_string(),
            many => format!("{}/{{{}}}", parent.display(), many.join(", ")),
        })
        .collect();
    if parts.is_empty() {
        "nothing outside the workspace".to_owned()
    } else {
        parts.join(", ")
    }
}

fn duration(value: Duration) -> String {
    if value.subsec_millis() == 0 {
        format!("{} s", value.as_secs())
    } else {
        format!("{} ms", value.as_millis())
    }
}

fn bytes(value: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if value >= size && value.is_multiple_of(size) {
            return format!("{} {unit}", value / size);
        }
    }
    format!("{value} B")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    #[test]
    fn describe_reads_like_the_reviewer_summary() {
        let mut config = SandboxConfig::new("/srv/ws");
        config.read_roots = vec!["/usr".into(), "/etc/hosts".into(), "/etc/passwd".into()];
        config.env.insert("API_TOKEN".into(), "secret-value".into());
        config.limits = Limits {
            wall_time: Duration::from_millis(1500),
            ..Limits::default()
        };
        let text = config.describe();
        assert!(
            text.starts_with(
                "read-only: /usr, /etc/{hosts, passwd}; writes only in /srv/ws; no network;"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "1500 ms wall, 10 s CPU, 256 MiB memory, 64 processes, 1 MiB output per stream"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("clean environment (PATH, HOME, LANG, TMPDIR) plus API_TOKEN"),
            "{text}"
        );
        assert!(!text.contains("secret-value"));
    }

    #[test]
    fn network_modes_are_spelled_out() {
        assert_eq!(describe_network(&NetworkAccess::Denied), "no network");
        assert_eq!(
            describe_network(&NetworkAccess::TcpConnect(vec![443, 8080])),
            "network: TCP connect to port 443, 8080 only, no UDP"
        );
        assert!(describe_network(&NetworkAccess::Unrestricted).contains("unrestricted"));
    }

    #[test]
    fn missing_roots_are_left_out_and_sizes_are_humane() {
        let mut config = SandboxConfig::new("/srv/ws");
        config.read_roots = vec!["/does-not-exist".into()];
        assert!(config
            .describe()
            .starts_with("read-only: nothing outside the workspace;"));
        assert_eq!(bytes(64 * 1024), "64 KiB");
        assert_eq!(bytes(1000), "1000 B");
        assert_eq!(bytes(2 << 30), "2 GiB");
    }
}
