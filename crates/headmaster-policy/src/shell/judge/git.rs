//! `git`, judged by its global options and its subcommand.
//!
//! - Global options that change configuration or the repository (`-c`, `--config-env`,
//!   `--git-dir`, `--work-tree`, `--exec-path=`) are high: configuration can make any git
//!   command run a program (`core.pager`, `core.sshCommand`, `core.fsmonitor`). `-C DIR` is
//!   judged like `cd`.
//! - Read-only subcommands (`status`, `log`, `diff`, `show`, `blame`, `ls-files`, `rev-parse`,
//!   listing branches and tags, reading configuration) are low, with their `--output` files
//!   judged; a word that may turn into an option at run time before `--` is high (it could be
//!   `--output=…` or `git grep`'s `-O<program>`).
//! - Local changes without hooks (`add`, `mv`, `reset`, `stash`, creating a branch) are
//!   medium; subcommands that run hooks (`commit`, `merge`, `rebase`, `checkout`, …) are high,
//!   since hooks may live in a folder the agent can write (`core.hooksPath=.husky`).
//! - Network subcommands (`clone`, `fetch`, `pull`, `push`, `ls-remote`, `remote update`,
//!   `submodule update`, `archive --remote`, …) are critical.
//! - Anything else may be an alias or a `git-NAME` program: high.

use super::options::long_is;
use super::place::{place, place_of, Place};
use super::{Call, Finding, Why};
use crate::shell::Word;
use crate::tier::Tier;

#[rustfmt::skip]
const READ: &[&str] = &[
    "annotate", "blame", "cat-file", "check-attr", "check-ignore", "check-mailmap",
    "check-ref-format", "count-objects", "describe", "diff", "diff-files", "diff-index",
    "diff-tree", "for-each-ref", "format-patch", "fsck", "grep", "help", "log", "ls-files",
    "ls-tree", "merge-base", "name-rev", "range-diff", "rev-list", "rev-parse", "shortlog", "show",
    "show-branch", "show-ref", "status", "var", "verify-commit", "verify-pack", "verify-tag",
    "version", "whatchanged",
];

#[rustfmt::skip]
const LOCAL: &[&str] = &[
    "add", "apply", "checkout-index", "commit-tree", "fast-export", "fast-import", "hash-object",
    "index-pack", "init", "interpret-trailers", "mailinfo", "mailsplit", "merge-file", "mktag",
    "mktree", "mv", "pack-objects", "pack-refs", "prune", "read-tree", "repack", "replace",
    "rerere", "reset", "restore", "rm", "sparse-checkout", "stripspace", "symbolic-ref",
    "unpack-objects", "update-index", "update-ref", "write-tree",
];

#[rustfmt::skip]
const HOOKS: &[&str] = &[
    "am", "bisect", "checkout", "cherry-pick", "commit", "difftool", "filter-branch", "gc", "merge",
    "mergetool", "rebase", "revert", "switch",
];

#[rustfmt::skip]
const NETWORK: &[&str] = &[
    "archimport", "clone", "cvsexportcommit", "cvsimport", "cvsserver", "daemon", "fetch",
    "fetch-pack", "http-backend", "http-fetch", "http-push", "imap-send", "instaweb", "lfs",
    "ls-remote", "maintenance", "p4", "pull", "push", "receive-pack", "request-pull", "send-email",
    "send-pack", "shell", "svn", "upload-archive", "upload-pack", "web--browse",
];

/// Global options that take their value as the next word.
#[rustfmt::skip]
const GLOBAL_VALUES: &[&str] = &[
    "-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env",
];

/// Global options that change nothing the judgement cares about.
#[rustfmt::skip]
const GLOBAL_FLAGS: &[&str] = &[
    "-P", "-p", "--bare", "--exec-path", "--glob-pathspecs", "--help", "--html-path",
    "--icase-pathspecs", "--info-path", "--literal-pathspecs", "--man-path", "--no-advice",
    "--no-optional-locks", "--no-pager", "--no-replace-objects", "--noglob-pathspecs", "--paginate",
    "--version", "-h",
];

pub(crate) fn judge<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    let mut worst = Finding::low(name, "read-only");
    let mut i = 0;
    while let Some(w) = args.get(i) {
        if !w.literal {
            return Finding::new(
                Tier::High,
                name,
                Why::Names("has the argument", &w.text, ", known only at run time"),
            );
        }
        let t = w.text.as_str();
        if !t.starts_with('-') {
            break;
        }
        let value = args.get(i + 1);
        if t == "-C" {
            if let Some(dir) = value {
                worst = worst.or(folder(name, dir));
            }
        } else if t.starts_with("-c") || t.starts_with("--config-env") {
            return Finding::says(
                Tier::High,
                name,
                "sets configuration for this run, which can make git run programs",
            );
        } else if ["--git-dir", "--work-tree", "--exec-path="]
            .iter()
            .any(|o| t.starts_with(o))
        {
            return Finding::says(
                Tier::High,
                name,
                "points git at another repository, work tree or program folder",
            );
        } else if !GLOBAL_FLAGS.contains(&t)
            && !GLOBAL_VALUES.contains(&t)
            && !t.starts_with("--namespace=")
        {
            return Finding::new(
                Tier::High,
                name,
                Why::Names("has the option", t, ", which the engine does not know"),
            );
        }
        i += if GLOBAL_VALUES.contains(&t) { 2 } else { 1 };
    }
    let Some(sub) = args.get(i) else {
        return worst;
    };
    let s = sub.text.as_str();
    let rest = &args[i + 1..];
    // The subcommand names what the call does, so it speaks unless the global options were
    // stricter.
    let found = subcommand(name, s, rest).of(s);
    if found.tier >= worst.tier {
        found
    } else {
        worst
    }
}

/// `-C DIR` moves git like `cd` does.
fn folder<'c>(name: &'c str, dir: &'c Word) -> Finding<'c> {
    let at = place(dir);
    if at == Place::Inside {
        Finding::low(name, "read-only")
    } else {
        Finding::new(Tier::High, name, Why::Path("runs in", &dir.text, at))
    }
}

fn subcommand<'c>(name: &'c str, s: &'c str, rest: &'c [Word]) -> Finding<'c> {
    let has = |options: &[&str]| rest.iter().any(|w| options.contains(&w.text.as_str()));
    let first = rest
        .iter()
        .find(|w| !w.text.starts_with('-'))
        .map(|w| w.text.as_str());
    if NETWORK.contains(&s) {
        return Finding::says(Tier::Critical, name, "network access");
    }
    if HOOKS.contains(&s) {
        return Finding::says(
            Tier::High,
            name,
            "runs git hooks, which the engine cannot read",
        );
    }
    // Pathspecs after `--` are never options; anything computed elsewhere may be one, and
    // outside the read-only subcommands it may also be a path or a revision that matters.
    let options = rest
        .iter()
        .position(|w| w.literal && w.text == "--")
        .map_or(rest, |end| &rest[..end]);
    let unseen = if READ.contains(&s) {
        options.iter().find(|w| w.may_be_option())
    } else {
        rest.iter().find(|w| w.may_be_option())
    };
    if let Some(w) = unseen {
        return Finding::new(
            Tier::High,
            name,
            Why::Names(
                "has the argument",
                &w.text,
                ", which may turn into an option at run time",
            ),
        );
    }
    match s {
        "config" if config_reads(rest) => Finding::low(name, "reads configuration"),
        "config" => Finding::says(
            Tier::High,
            name,
            "changes git configuration, which can make git run programs",
        ),
        "grep"
            if rest
                .iter()
                .any(|w| w.text.starts_with("-O") || long_prefix(w, "open-files-in-pager")) =>
        {
            Finding::says(
                Tier::High,
                name,
                "opens the matches with a program it is given",
            )
        }
        "help" if has(&["-w", "--web"]) => Finding::says(Tier::High, name, "opens a web browser"),
        "archive" if rest.iter().any(|w| long_prefix(w, "remote")) => {
            Finding::says(Tier::Critical, name, "network access")
        }
        "archive" if rest.iter().any(|w| long_prefix(w, "exec")) => {
            Finding::says(Tier::High, name, "runs the program it is given")
        }
        "archive" | "bundle" => outputs(name, rest, Tier::Low),
        "credential" | "credential-cache" | "credential-store" => Finding::says(
            Tier::High,
            name,
            "runs credential helpers, which the engine cannot read",
        ),
        "clean" if has(&["-n", "--dry-run"]) => Finding::low(name, "lists untracked files"),
        "clean" => Finding::says(Tier::High, name, "deletes untracked files"),
        "branch" | "tag" => listing(name, s, rest),
        "stash" | "notes" | "reflog" | "worktree" => match first {
            None if s == "reflog" || s == "notes" => Finding::low(name, "read-only"),
            Some("list" | "show") => Finding::low(name, "read-only"),
            Some("add") if s == "worktree" => {
                Finding::says(Tier::High, name, "checks out a tree and runs git hooks")
            }
            _ => Finding::says(Tier::Medium, name, "changes the repository"),
        },
        "remote" => match first {
            None | Some("get-url") => Finding::low(name, "read-only"),
            Some("show") if has(&["-n"]) => Finding::low(name, "read-only"),
            Some("show" | "update" | "prune") => {
                Finding::says(Tier::Critical, name, "network access")
            }
            Some("set-head") if has(&["-a", "--auto"]) => {
                Finding::says(Tier::Critical, name, "network access")
            }
            _ => Finding::says(Tier::Medium, name, "changes the repository's remotes"),
        },
        "submodule" => match first {
            None | Some("status" | "summary") => Finding::low(name, "read-only"),
            Some("update" | "add") => Finding::says(Tier::Critical, name, "network access"),
            Some("foreach") => Finding::says(Tier::High, name, "runs a command in every submodule"),
            _ => Finding::says(Tier::Medium, name, "changes the repository"),
        },
        "apply" if !has(&["--apply"]) && has(&["--check", "--stat", "--numstat", "--summary"]) => {
            Finding::low(name, "read-only")
        }
        _ if READ.contains(&s) => outputs(name, rest, Tier::Low),
        _ if LOCAL.contains(&s) => Finding::says(Tier::Medium, name, "changes the repository"),
        _ => Finding::says(
            Tier::High,
            name,
            "an alias or a git-NAME program, which the engine cannot read",
        ),
    }
}

/// True when `git config ARGS` only reads: `--get*` or `--list` (or the `get` and `list`
/// subcommands) with no option that writes, or the old one-operand form `git config KEY`.
fn config_reads(rest: &[Word]) -> bool {
    #[rustfmt::skip]
    const WRITES: &[&str] = &[
        "--add", "--edit", "--remove-section", "--rename-section", "--replace-all", "--unset",
        "--unset-all", "-e",
    ];
    #[rustfmt::skip]
    const VALUES: &[&str] = &[
        "--blob", "--comment", "--default", "--file", "--type", "--value", "-f",
    ];
    let mut operands = 0;
    let mut first = None;
    let mut reads = false;
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        i += 1;
        let t = w.text.as_str();
        if WRITES.contains(&t) {
            return false;
        }
        if VALUES.contains(&t) {
            i += 1;
        } else if t.starts_with("--get") || t == "-l" || t == "--list" {
            reads = true;
        } else if !t.starts_with('-') {
            operands += 1;
            first.get_or_insert(t);
        }
    }
    match first {
        Some("get" | "list") => true,
        Some("set" | "unset" | "rename-section" | "remove-section" | "edit") => false,
        _ => reads || operands == 1,
    }
}

fn long_prefix(w: &Word, name: &str) -> bool {
    w.text
        .strip_prefix("--")
        .map(|t| t.split_once('=').map_or(t, |(n, _)| n))
        .is_some_and(|n| long_is(n, name))
}

/// Read-only subcommands that may write a file: `--output FILE`, `-o DIR` (`format-patch`,
/// `archive`), `bundle create FILE`.
fn outputs<'c>(name: &'c str, rest: &'c [Word], base: Tier) -> Finding<'c> {
    let mut worst = Finding::new(base, name, Why::Safe("read-only"));
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        i += 1;
        let t = w.text.as_str();
        let file = if let Some(v) = t
            .strip_prefix("--output=")
            .or_else(|| t.strip_prefix("--output-directory="))
        {
            Some((v, true))
        } else if matches!(t, "--output" | "-o" | "--output-directory" | "create") {
            i += 1;
            rest.get(i - 1).map(|v| (v.text.as_str(), v.literal))
        } else {
            None
        };
        if let Some((text, literal)) = file {
            let at = if literal {
                place_of(text)
            } else {
                Place::Computed
            };
            worst = worst.or(Finding::new(
                at.write_tier(),
                name,
                Why::Path("writes to", text, at),
            ));
        }
    }
    worst
}

/// `git branch` and `git tag` list unless they are given a name or a changing option.
fn listing<'c>(name: &'c str, s: &str, rest: &'c [Word]) -> Finding<'c> {
    #[rustfmt::skip]
    const VALUES: &[&str] = &[
        "--contains", "--no-contains", "--merged", "--no-merged", "--points-at", "--sort",
        "--format", "-n",
    ];
    #[rustfmt::skip]
    const CHANGES: &[&str] = &[
        "-d", "-D", "--delete", "-m", "-M", "--move", "-c", "-C", "--copy", "-f", "--force", "-u",
        "--set-upstream-to", "--unset-upstream", "--edit-description", "-t", "--track",
        "--no-track", "--create-reflog", "-a", "--annotate", "-s", "--sign", "-F", "--file", "-e",
        "--edit",
    ];
    let lists = rest
        .iter()
        .any(|w| matches!(w.text.as_str(), "-l" | "--list"));
    let mut i = 0;
    let mut changes = false;
    while let Some(w) = rest.get(i) {
        i += 1;
        let t = w.text.as_str();
        if VALUES.contains(&t) {
            i += 1;
        } else if (s == "branch" && t == "-a") || t == "-v" || t == "-vv" || t == "-r" {
            // Listing flags (`-a` lists all branches; on `tag` it annotates).
        } else if CHANGES.contains(&t)
            || t.starts_with("--set-upstream-to=")
            || (!t.starts_with('-') && !lists)
        {
            changes = true;
        }
    }
    if changes {
        Finding::says(Tier::Medium, name, "changes branches or tags")
    } else {
        Finding::low(name, "lists branches or tags")
    }
}
