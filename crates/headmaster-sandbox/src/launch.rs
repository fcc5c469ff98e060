//! Turning a request into what `execve` and `setrlimit` take, before the child exists.
//!
//! The child cannot allocate, so the argument vector, the environment and the limits are
//! converted here into C strings, NULL-terminated pointer arrays and `rlimit` values.

use std::collections::BTreeMap;
use std::ffi::{c_char, CString};
use std::path::Path;

use rustix::process::{getrlimit, Resource};

use crate::child::ResourceKind;
use crate::{CommandSpec, Limits, SandboxConfig, SandboxError};

/// The shell every command runs under.
pub(crate) const SHELL: &str = "/bin/sh";

/// The variables every command gets; the caller's `env` is added on top.
pub(crate) const BASE_VARIABLES: [&str; 4] = ["PATH", "HOME", "LANG", "TMPDIR"];

/// `execve` arguments. The pointer arrays point into the `CString`s owned alongside them,
/// whose heap buffers do not move when this struct does.
#[derive(Debug)]
pub(crate) struct Launch {
    pub program: CString,
    pub cwd: CString,
    _strings: Vec<CString>,
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
}

impl Launch {
    pub(crate) fn new(
        command: &CommandSpec,
        config: &SandboxConfig,
        workspace: &Path,
        cwd: &Path,
    ) -> Result<Self, SandboxError> {
        let command_line = CString::new(command.command_line.as_bytes()).map_err(|_| {
            SandboxError::CommandLine {
                reason: "it contains a NUL byte",
            }
        })?;
        let argv_strings = vec![c_string(SHELL), c_string("-c"), command_line];
        let env_strings = environment(config, workspace)?;
        let argv = pointers(&argv_strings);
        let envp = pointers(&env_strings);
        let mut strings = argv_strings;
        strings.extend(env_strings);
        Ok(Self {
            program: c_string(SHELL),
            cwd: path_string(cwd)?,
            _strings: strings,
            argv,
            envp,
        })
    }
}

/// The clean environment: the base variables, then the caller's, as `NAME=value` strings.
fn environment(config: &SandboxConfig, workspace: &Path) -> Result<Vec<CString>, SandboxError> {
    let home = workspace.to_string_lossy().into_owned();
    let mut variables = BTreeMap::from([
        ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
        ("HOME".to_owned(), home.clone()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
        ("TMPDIR".to_owned(), home),
    ]);
    for (name, value) in &config.env {
        let refuse = |reason| SandboxError::Environment {
            name: name.clone(),
            reason,
        };
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(refuse(
                "a name must be non-empty and contain neither `=` nor NUL",
            ));
        }
        if value.contains('\0') {
            return Err(refuse("the value contains a NUL byte"));
        }
        variables.insert(name.clone(), value.clone());
    }
    Ok(variables
        .into_iter()
        .map(|(name, value)| c_string(&format!("{name}={value}")))
        .collect())
}

/// `setrlimit` calls for the limits, each capped at the current hard limit: an unprivileged
/// process may not raise it, and asking would fail the start instead of tightening the limit.
pub(crate) fn rlimits(limits: &Limits) -> Vec<(ResourceKind, libc::rlimit)> {
    let cpu_seconds = limits.cpu_time.as_secs_f64().ceil().max(1.0) as u64;
    [
        (
            Resource::As,
            libc::RLIMIT_AS,
            limits.address_space_bytes,
            limits.address_space_bytes,
        ),
        // The soft limit sends SIGXCPU; the hard one, a second later, SIGKILL for programs
        // that catch SIGXCPU.
        (
            Resource::Cpu,
            libc::RLIMIT_CPU,
            cpu_seconds,
            cpu_seconds + 1,
        ),
        (
            Resource::Fsize,
            libc::RLIMIT_FSIZE,
            limits.max_file_size_bytes,
            limits.max_file_size_bytes,
        ),
        (
            Resource::Nproc,
            libc::RLIMIT_NPROC,
            limits.max_processes,
            limits.max_processes,
        ),
        (
            Resource::Nofile,
            libc::RLIMIT_NOFILE,
            limits.max_open_files,
            limits.max_open_files,
        ),
        (Resource::Core, libc::RLIMIT_CORE, 0, 0),
    ]
    .into_iter()
    .map(|(resource, kind, soft, hard)| {
        let ceiling = getrlimit(resource).maximum.unwrap_or(u64::MAX);
        let hard = hard.min(ceiling);
        (
            kind,
            libc::rlimit {
                rlim_cur: soft.min(hard),
                rlim_max: hard,
            },
        )
    })
    .collect()
}

fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// For strings built here, which never contain NUL.
fn c_string(text: &str) -> CString {
    CString::new(text).unwrap_or_default()
}

fn path_string(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| SandboxError::WorkingDirectory {
        cwd: path.to_path_buf(),
        reason: "it contains a NUL byte",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(env: &[CString]) -> Vec<String> {
        env.iter()
            .map(|entry| {
                entry
                    .to_string_lossy()
                    .split('=')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn environment_is_the_base_plus_passed_variables_only() {
        let mut config = SandboxConfig::new("/ws");
        config.env.insert("TOKEN".into(), "abc".into());
        config.env.insert("LANG".into(), "de_DE.UTF-8".into());
        let env = environment(&config, Path::new("/ws")).unwrap();
        assert_eq!(names(&env), ["HOME", "LANG", "PATH", "TMPDIR", "TOKEN"]);
        let entries: Vec<_> = env
            .iter()
            .map(|e| e.to_string_lossy().into_owned())
            .collect();
        assert!(
            entries.contains(&"LANG=de_DE.UTF-8".to_owned()),
            "override lost: {entries:?}"
        );
        assert!(entries.contains(&"HOME=/ws".to_owned()));
    }

    #[test]
    fn invalid_variables_are_refused_without_echoing_the_value() {
        for (name, value) in [("A=B", "v"), ("", "v"), ("OK", "sec\0ret")] {
            let mut config = SandboxConfig::new("/ws");
            config.env.insert(name.into(), value.into());
            let error = environment(&config, Path::new("/ws"))
                .unwrap_err()
                .to_string();
            assert!(error.contains("refused"), "{error}");
            assert!(!error.contains("sec"), "value leaked: {error}");
        }
    }

    #[test]
    fn argv_runs_the_command_line_through_sh() {
        let config = SandboxConfig::new("/ws");
        let launch = Launch::new(
            &CommandSpec::new("echo hi"),
            &config,
            Path::new("/ws"),
            Path::new("/ws"),
        )
        .unwrap();
        assert_eq!(launch.argv.len(), 4);
        assert!(launch.argv[3].is_null());
        assert_eq!(launch.envp.len(), BASE_VARIABLES.len() + 1);
        let nul = CommandSpec::new("echo \0");
        assert!(Launch::new(&nul, &config, Path::new("/ws"), Path::new("/ws")).is_err());
    }

    #[test]
    fn cpu_limit_rounds_up_and_leaves_a_second_before_sigkill() {
        let limits = Limits {
            cpu_time: std::time::Duration::from_millis(1500),
            ..Limits::default()
        };
        let cpu = rlimits(&limits)
            .into_iter()
            .find(|(kind, _)| *kind == libc::RLIMIT_CPU)
            .unwrap();
        assert_eq!((cpu.1.rlim_cur, cpu.1.rlim_max), (2, 3));
    }
}
