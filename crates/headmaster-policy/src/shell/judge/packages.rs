//! Package managers and build drivers, judged by their subcommand: those that download,
//! install or publish are critical wherever they appear, read-only and workspace-local ones
//! (`cargo fmt`, `npm ls`, `pip list`) are low unless pointed elsewhere, and the rest (running
//! package scripts, building) are high. `dpkg` and `rpm` are low for queries only.

use super::options::asks_only_for_info;
use super::place::{place_of, Place};
use super::{Call, Finding, Why};
use crate::shell::Word;
use crate::tier::Tier;

/// The subcommands of a package manager.
#[derive(Debug)]
pub(crate) struct Manager {
    /// Subcommands that only read or print, or stay inside the workspace (`cargo fmt`).
    pub(crate) reads: &'static [&'static str],
    /// Subcommands that download, install or publish: critical wherever they appear.
    pub(crate) network: &'static [&'static str],
    /// Options that make a read-only subcommand ask a package index (`pip list --outdated`).
    pub(crate) network_flags: &'static [&'static str],
    /// Every other subcommand (running package scripts, building).
    pub(crate) other: (Tier, &'static str),
    /// The program with no arguments at all (`yarn` installs, `npm` prints help).
    pub(crate) bare: (Tier, &'static str),
}

/// `dpkg` and `rpm`: queries are low, anything else changes the system's packages.
pub(crate) fn package_query<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let query = c.args.first().is_some_and(|a| {
        a.literal
            && if name == "rpm" {
                a.text.starts_with("-q") || matches!(a.text.as_str(), "--query" | "--version")
            } else {
                matches!(
                    a.text.as_str(),
                    "-l" | "--list"
                        | "-L"
                        | "--listfiles"
                        | "-s"
                        | "--status"
                        | "-S"
                        | "--search"
                        | "-p"
                        | "--print-avail"
                        | "--print-architecture"
                        | "--version"
                        | "-c"
                        | "--contents"
                        | "-I"
                        | "--info"
                )
            }
    });
    if query {
        Finding::low(name, "queries installed packages")
    } else {
        Finding::says(Tier::Critical, name, "changes the system's packages")
    }
}

/// A package manager: a network subcommand anywhere is critical; the first operand decides
/// between the read-only list and everything else. A read-only subcommand pointed at a path
/// outside the workspace (`cargo fmt --manifest-path ../x/Cargo.toml` rewrites files there),
/// given a word that may turn into an option, or given a configuration option is high.
pub(crate) fn manager<'c>(m: &Manager, c: &Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    if args.is_empty() {
        return Finding::says(m.bare.0, name, m.bare.1);
    }
    if asks_only_for_info(args) {
        return Finding::low(name, "prints its version or help");
    }
    let mut first = None;
    for w in args {
        if !w.literal {
            if !m.network.is_empty() {
                return Finding::new(
                    Tier::Critical,
                    name,
                    Why::Names(
                        "has the argument",
                        &w.text,
                        ", which could be a subcommand that installs or downloads",
                    ),
                );
            }
            continue;
        }
        let t = w.text.as_str();
        if t.contains("://") || t.starts_with("git+") {
            return Finding::new(
                Tier::Critical,
                name,
                Why::Names(
                    "names the URL",
                    t,
                    ", which it would fetch (network access)",
                ),
            );
        }
        let option = t.split_once('=').map_or(t, |(o, _)| o);
        if m.network_flags.contains(&option) {
            return Finding::new(
                Tier::Critical,
                name,
                Why::Names(
                    "has the option",
                    t,
                    ", which asks a package index (network access)",
                ),
            );
        }
        if t.starts_with('-') || t.starts_with('+') {
            continue;
        }
        if m.network.contains(&t) {
            return Finding::says(
                Tier::Critical,
                name,
                "downloads, installs or publishes packages (network access)",
            )
            .of(t);
        }
        first.get_or_insert(t);
    }
    match first {
        Some(sub) if m.reads.contains(&sub) => match args.iter().find(|w| steers(w)) {
            Some(w) => Finding::new(
                Tier::High,
                name,
                Why::Names(
                    "has the argument",
                    &w.text,
                    ", which may point it outside the workspace or at other configuration",
                ),
            )
            .of(sub),
            None => Finding::low(name, "a read-only or workspace-local subcommand").of(sub),
        },
        Some(sub) => Finding::says(m.other.0, name, m.other.1).of(sub),
        None => Finding::says(m.other.0, name, m.other.1),
    }
}

/// True when an argument of a read-only subcommand may take it elsewhere: a word that may be
/// an option at run time, a path (or an option's `=value`) outside the workspace, or an
/// option that loads configuration (`-o`, `-c`, `--config`).
fn steers(w: &Word) -> bool {
    if w.may_be_option() {
        return true;
    }
    let t = w.text.as_str();
    if matches!(t, "-o" | "-c" | "-C") || t.starts_with("--config") || t.starts_with("-o") {
        return true;
    }
    let value = t.split_once('=').map_or(t, |(_, v)| v);
    (value.contains('/') || value.starts_with('~') || value == "..")
        && place_of(value) != Place::Inside
}

const SCRIPTS: (Tier, &str) = (
    Tier::High,
    "runs the project's scripts, which the engine cannot read",
);
const HELP: (Tier, &str) = (Tier::Low, "prints its help");

#[rustfmt::skip]
pub(crate) const NPM: Manager = Manager {
    reads: &[
        "bin", "explain", "help", "la", "list", "ll", "ls", "prefix", "query", "root", "why",
    ],
    network: &[
        "access", "add", "add-user", "adduser", "audit", "bugs", "cache", "ci", "cit",
        "clean-install", "create", "dedupe", "ddp", "deprecate", "dist-tag", "docs", "doctor",
        "exec", "find", "fund", "hook", "home", "i", "ic", "in", "info", "init", "innit", "ins",
        "inst", "insta", "instal", "install", "install-ci-test", "install-clean", "install-test",
        "isnt", "isnta", "isntal", "isntall", "it", "link", "ln", "login", "logout", "org",
        "outdated", "owner", "ping", "profile", "prune", "publish", "rb", "rebuild", "repo", "s",
        "se", "search", "show", "star", "stars", "team", "token", "udpate", "unpublish", "unstar",
        "up", "update", "upgrade", "v", "view", "whoami", "x",
    ],
    network_flags: &[],
    other: SCRIPTS,
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const YARN: Manager = Manager {
    reads: &["help", "list", "why"],
    network: &[
        "add", "audit", "create", "dlx", "import", "info", "init", "install", "login", "logout",
        "npm", "outdated", "publish", "remove", "set", "up", "upgrade", "upgrade-interactive",
    ],
    network_flags: &[],
    other: SCRIPTS,
    bare: (
        Tier::Critical,
        "installs the project's packages (network access)",
    ),
};

#[rustfmt::skip]
pub(crate) const PNPM: Manager = Manager {
    reads: &["bin", "help", "la", "list", "ll", "ls", "root", "why"],
    network: &[
        "add", "audit", "create", "dlx", "env", "fetch", "i", "import", "install", "install-test",
        "it", "link", "ln", "login", "logout", "outdated", "publish", "rebuild", "remove", "setup",
        "self-update", "up", "update", "upgrade",
    ],
    network_flags: &[],
    other: SCRIPTS,
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const BUN: Manager = Manager {
    reads: &["help"],
    network: &[
        "a", "add", "c", "create", "i", "install", "link", "outdated", "pm", "publish", "remove",
        "rm", "update", "upgrade", "x",
    ],
    network_flags: &[],
    other: (Tier::High, "runs code the engine cannot read"),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const DENO: Manager = Manager {
    reads: &["completions", "fmt", "help", "lint", "types"],
    network: &[
        "add", "cache", "compile", "deploy", "install", "jupyter", "outdated", "publish", "remove",
        "serve", "upgrade",
    ],
    network_flags: &[],
    other: (Tier::High, "runs code the engine cannot read"),
    bare: (Tier::High, "runs a program read from its input"),
};

#[rustfmt::skip]
pub(crate) const PIP: Manager = Manager {
    reads: &[
        "check", "debug", "environment", "freeze", "help", "inspect", "list", "show",
    ],
    network: &[
        "add", "download", "index", "inject", "install", "install-all", "lock", "pip", "publish",
        "python", "reinstall", "reinstall-all", "run", "search", "self", "sync", "tool", "tree",
        "upgrade", "upgrade-all", "venv", "wheel",
    ],
    network_flags: &["--extra-index-url", "--index-url", "--outdated", "--uptodate", "-i", "-o", "-u"],
    other: (Tier::High, "changes the Python environment"),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const CARGO: Manager = Manager {
    reads: &[
        "fmt", "help", "locate-project", "pkgid", "read-manifest", "verify-project", "version",
    ],
    network: &[
        "add", "fetch", "generate-lockfile", "info", "install", "login", "logout", "owner",
        "publish", "search", "update", "vendor", "yank",
    ],
    network_flags: &[],
    other: (
        Tier::High,
        "builds and runs the project's code (build scripts, macros, tests)",
    ),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const RUSTUP: Manager = Manager {
    reads: &["help", "show", "which"],
    network: &[
        "check", "component", "default", "doc", "install", "man", "run", "self", "set", "target",
        "toolchain", "update",
    ],
    network_flags: &[],
    other: (Tier::High, "changes the Rust toolchains"),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const GO: Manager = Manager {
    reads: &["doc", "fmt", "help", "version"],
    network: &["bug", "download", "get", "install", "list", "mod", "work"],
    network_flags: &[],
    other: (
        Tier::High,
        "builds and runs Go code (`go generate` runs any command)",
    ),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const GEM: Manager = Manager {
    reads: &[
        "check", "contents", "environment", "help", "info", "list", "platform", "show", "version",
        "which",
    ],
    network: &[
        "add", "binstubs", "cache", "fetch", "i", "init", "install", "lock", "outdated", "owner",
        "package", "push", "search", "signin", "signout", "sources", "update", "yank",
    ],
    network_flags: &["--both", "--remote", "-b", "-r"],
    other: SCRIPTS,
    bare: (
        Tier::Critical,
        "installs the project's gems (network access)",
    ),
};

#[rustfmt::skip]
pub(crate) const PACKAGES: Manager = Manager {
    reads: &["about", "help", "info", "list", "show", "why"],
    network: &[
        "add", "archive.install", "browse", "create", "create-project", "deps.get", "deps.update",
        "download", "env", "escript.install", "global", "hex.publish", "i", "install", "local.hex",
        "lock", "new", "outdated", "publish", "r", "reinstall", "remove", "require", "restore",
        "search", "self", "self-update", "sync", "tool", "u", "uninstall", "update", "upgrade",
        "workload",
    ],
    network_flags: &["--latest", "--outdated"],
    other: (Tier::High, "runs code or changes the environment"),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const APT_CACHE: Manager = Manager {
    reads: &[
        "depends", "dotty", "dump", "dumpavail", "madison", "pkgnames", "policy", "rdepends",
        "search", "show", "showpkg", "showsrc", "stats", "unmet", "xvcg",
    ],
    network: &[],
    network_flags: &[],
    other: (Tier::High, "rebuilds the package caches"),
    bare: HELP,
};

#[rustfmt::skip]
pub(crate) const SYSTEM_PACKAGES: Manager = Manager {
    reads: &["help", "info", "list", "policy", "show"],
    network: &[],
    network_flags: &[],
    other: (Tier::Critical, "changes the system's packages"),
    bare: HELP,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_manager_lists_do_not_contradict_each_other() {
        for m in [
            &NPM,
            &YARN,
            &PNPM,
            &BUN,
            &DENO,
            &PIP,
            &CARGO,
            &RUSTUP,
            &GO,
            &GEM,
            &PACKAGES,
            &APT_CACHE,
            &SYSTEM_PACKAGES,
        ] {
            for sub in m.reads {
                assert!(
                    !m.network.contains(sub),
                    "{sub} is both read-only and network"
                );
            }
            assert!(m.network_flags.iter().all(|f| f.starts_with('-')));
        }
    }
}
