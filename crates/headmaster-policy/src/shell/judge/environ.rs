//! Environment variables that make programs run a command or load code.
//!
//! An assignment is data to almost every program, but a few variables are read as a command
//! line (`GIT_PAGER`, `EDITOR`, `GIT_SSH_COMMAND`, `GIT_EXTERNAL_DIFF`, …) and others point a
//! program at code or configuration that can run one (`PYTHONPATH`, `NODE_OPTIONS`,
//! `GIT_CONFIG_GLOBAL`, `HOME`, which moves `~/.gitconfig` into reach, `CDPATH`, which moves
//! `cd`). The value of a command variable is judged as a command line (`GIT_PAGER=cat` stays
//! low); a code variable is high whatever its value.
//!
//! Assignments are judged wherever they are written: before a program, alone (`HOME=.`: a
//! variable that is already exported changes every later command), as arguments of `env` and
//! of `export`-like builtins, or read from input (`read GIT_PAGER`). The parser already
//! refuses the ones that change how names resolve (`PATH`, `LD_PRELOAD`, `BASH_ENV`, …).

use super::place::place_of;
use super::{Call, Finding, Why};
use crate::shell::Word;
use crate::tier::Tier;

/// Variables whose value some program runs as a command.
#[rustfmt::skip]
const COMMANDS: &[&str] = &[
    "BAT_PAGER", "BROWSER", "EDITOR", "FCEDIT", "GH_PAGER", "GIT_ASKPASS", "GIT_EDITOR",
    "GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_PROXY_COMMAND", "GIT_SEQUENCE_EDITOR", "GIT_SSH",
    "GIT_SSH_COMMAND", "GREP", "LESSCLOSE", "LESSOPEN", "MANPAGER", "PAGER", "RSYNC_RSH", "RUSTFMT",
    "SHELL", "SSH_ASKPASS", "SUDO_ASKPASS", "SYSTEMD_PAGER", "VISUAL",
];

/// Variables that point programs at code, options or configuration that can run a command,
/// or that change where later paths lead.
#[rustfmt::skip]
const CODE: &[&str] = &[
    "AWKLIBPATH", "AWKPATH", "CARGO_HOME", "CDPATH", "CLASSPATH", "GCONV_PATH",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_CONFIG", "GIT_CONFIG_COUNT",
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_SYSTEM", "GIT_DIR", "GIT_EXEC_PATH",
    "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_TEMPLATE_DIR", "GIT_WORK_TREE", "GLIBC_TUNABLES",
    "GOFLAGS", "GOROOT", "GOTOOLCHAIN", "HOME", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS",
    "LUA_CPATH", "LUA_INIT", "LUA_PATH", "NODE_OPTIONS", "NODE_PATH", "OPENSSL_CONF",
    "OPENSSL_ENGINES", "OPENSSL_MODULES", "PERL5DB", "PERL5LIB", "PERL5OPT", "PERLLIB",
    "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONUSERBASE", "RIPGREP_CONFIG_PATH", "RUBYLIB",
    "RUBYOPT", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "TAR_OPTIONS", "XDG_CONFIG_DIRS",
    "XDG_CONFIG_HOME", "ZDOTDIR", "_JAVA_OPTIONS",
];

/// Families of code variables (`GIT_CONFIG_KEY_0`).
const CODE_PREFIXES: &[&str] = &["GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"];

/// The variable name and value of an assignment word (`NAME=value` or `NAME+=value`).
pub(crate) fn split(text: &str) -> Option<(&str, &str)> {
    let (name, value) = text.split_once('=')?;
    let name = name.strip_suffix('+').unwrap_or(name);
    let ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then_some((name, value))
}

/// How a variable is judged.
enum Kind {
    Command,
    Code,
    /// `GIT_TRACE*`: a number or boolean, or a file it writes.
    Trace,
}

fn kind(name: &str) -> Option<Kind> {
    if COMMANDS.contains(&name) {
        Some(Kind::Command)
    } else if CODE.contains(&name) || CODE_PREFIXES.iter().any(|p| name.starts_with(p)) {
        Some(Kind::Code)
    } else if name.starts_with("GIT_TRACE") {
        Some(Kind::Trace)
    } else {
        None
    }
}

/// True when `name` is a variable the judgement cares about.
pub(crate) fn matters(name: &str) -> bool {
    kind(name).is_some()
}

/// The finding for one assignment word, when its variable matters.
pub(crate) fn assignment<'c>(c: &mut Call<'c, '_>, word: &'c Word) -> Option<Finding<'c>> {
    let (name, value) = split(&word.text)?;
    let program = c.name;
    Some(match kind(name)? {
        Kind::Command if !word.literal => Finding::new(
            Tier::High,
            program,
            Why::Names(
                "sets",
                &word.text,
                ", a command other programs run, to a value known only at run time",
            ),
        ),
        Kind::Command => Finding::new(
            c.runs(value),
            program,
            Why::Names(
                "sets",
                &word.text,
                ", a command other programs run, which is judged on its own",
            ),
        ),
        Kind::Code => Finding::new(
            Tier::High,
            program,
            Why::Names(
                "sets",
                &word.text,
                ", which points programs at code or configuration the engine cannot read",
            ),
        ),
        Kind::Trace if !word.literal => Finding::new(
            Tier::High,
            program,
            Why::Names("sets", &word.text, ", a trace file known only at run time"),
        ),
        Kind::Trace => {
            let flag = value.is_empty()
                || value.bytes().all(|b| b.is_ascii_digit())
                || matches!(value, "true" | "false" | "yes" | "no" | "on" | "off");
            if flag {
                Finding::new(Tier::Low, program, Why::Names("sets", &word.text, ""))
            } else {
                let at = place_of(value);
                Finding::new(
                    at.write_tier(),
                    program,
                    Why::Path("writes its trace to", value, at),
                )
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_split_into_a_valid_name_and_a_value() {
        assert_eq!(split("GIT_PAGER=cat"), Some(("GIT_PAGER", "cat")));
        assert_eq!(split("PATH+=:."), Some(("PATH", ":.")));
        assert_eq!(split("A=b=c"), Some(("A", "b=c")));
        assert_eq!(split("1X=y"), None);
        assert_eq!(split("a-b=c"), None);
        assert_eq!(split("novalue"), None);
        assert!(matters("GIT_CONFIG_KEY_0") && matters("HOME") && matters("GIT_TRACE2"));
        assert!(!matters("RUST_LOG") && !matters("CI"));
    }
}
