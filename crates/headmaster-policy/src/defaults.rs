//! The policy every new workspace starts with.
//!
//! Tiers are set for every built-in action, but every action starts disabled: the catalog is
//! deny-by-default until an Admin enables a tool (`headmaster tool enable email`). Anything
//! not listed here is unknown and denied.
//!
//! Shell rules, chosen deliberately (they add to the built-in judgement of every command line,
//! `shell::judge`, which applies whatever the rules say):
//! - deny: privilege changes (`sudo`, `su`, `doas`, `pkexec`, `runuser`) and disk formatting
//!   (`mkfs*`, `mke2fs`, `wipefs`, `fdisk`, `sfdisk`, `parted`): no agent needs them and no
//!   approval makes them safe inside a sandbox meant to confine the agent.
//! - critical: network tools (`curl`, `wget`, `nc`, `ssh`, `scp`, …), destructive deletion
//!   (`rm` with `-r`/`-f`), raw copies (`dd`, `shred`), piping into an interpreter (`… | sh`,
//!   `… | python`), `eval`, bash's `/dev/tcp` sockets, and any line that cannot be parsed:
//!   legitimate at times, so two Approvers may let them through after reading them.
//! - high: inline interpreter code (`python -c`, `perl -e`, `node -e`) whose content the
//!   parser cannot see, and redirections that write outside the workspace (`> /etc/passwd`).

use crate::condition::{
    CmpOp, CommandMatch, Compare, Condition, DomainTest, PathTest, RedirectMatch,
};
use crate::model::{ActionPolicy, Effect, Rule, WorkspacePolicy};
use crate::tier::Tier;

/// The default policy for the built-in tools, with the workspace's own email domains.
pub fn default_policy<I, S>(own_domains: I) -> WorkspacePolicy
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut p = WorkspacePolicy {
        own_domains: own_domains.into_iter().map(Into::into).collect(),
        ..WorkspacePolicy::default()
    };
    let mut action = |key: &str, ap: ActionPolicy| {
        p.actions.insert(key.to_owned(), ap);
    };
    action("email.send", ActionPolicy::crossing(Tier::Medium));
    for key in ["file.read", "file.list", "file.write"] {
        action(key, ActionPolicy::inside(Tier::Low));
    }
    for key in ["http.get", "http.head"] {
        action(key, ActionPolicy::crossing(Tier::Medium));
    }
    for key in ["http.post", "http.put", "http.patch", "http.delete"] {
        action(key, ActionPolicy::crossing(Tier::High));
    }
    action(
        "shell.exec",
        ActionPolicy {
            command_arg: Some("command".to_owned()),
            ..ActionPolicy::inside(Tier::Medium)
        },
    );
    for key in ["memory.read", "memory.write", "draft.save"] {
        action(key, ActionPolicy::inside(Tier::Low));
    }
    p.rules = default_rules();
    p
}

fn rule(id: &str, target: &str, when: Vec<Condition>, effect: Effect, note: &str) -> Rule {
    Rule {
        id: id.to_owned(),
        target: target.parse().expect("built-in targets are well-formed"),
        when,
        effect,
        note: Some(note.to_owned()),
    }
}

fn programs(names: &[&str]) -> Condition {
    command(names, &[], false)
}

fn command(names: &[&str], args: &[&str], piped: bool) -> Condition {
    Condition::Command(CommandMatch {
        programs: names.iter().map(|s| (*s).to_owned()).collect(),
        args_any: args.iter().map(|s| (*s).to_owned()).collect(),
        piped_input: piped,
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "ash",
    "fish",
    "python",
    "python3",
    "python2",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "php",
    "lua",
    "tclsh",
    "osascript",
];

fn default_rules() -> Vec<Rule> {
    let critical = Effect::Raise(Tier::Critical);
    let high = Effect::Raise(Tier::High);
    vec![
        rule(
            "email-outside",
            "email.send",
            vec![Condition::RecipientDomain(DomainTest::OutsideOwn)],
            high,
            "recipient outside the workspace's domains",
        ),
        rule(
            "email-many",
            "email.send",
            vec![Condition::RecipientCount(Compare {
                op: CmpOp::Gt,
                value: 10.0,
            })],
            critical,
            "more than 10 recipients",
        ),
        rule(
            "file-secrets",
            "file",
            vec![Condition::Path(PathTest::Like(strings(&[
                ".env",
                ".env.*",
                "*.pem",
                "*.key",
                "id_*",
                "secrets/*",
                "*/secrets/*",
            ])))],
            high,
            "secret material",
        ),
        rule(
            "file-write-outside-drafts",
            "file.write",
            vec![Condition::Path(PathTest::Outside("drafts/".to_owned()))],
            high,
            "write outside drafts/",
        ),
        rule(
            "shell-privilege",
            "shell.exec",
            vec![programs(&["sudo", "su", "doas", "pkexec", "runuser"])],
            Effect::Deny,
            "privilege change",
        ),
        rule(
            "shell-format-disk",
            "shell.exec",
            vec![programs(&[
                "mkfs", "mkfs.*", "mke2fs", "wipefs", "fdisk", "sfdisk", "parted",
            ])],
            Effect::Deny,
            "disk formatting",
        ),
        rule(
            "shell-network",
            "shell.exec",
            vec![programs(&[
                "curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "rsync",
                "telnet", "ftp",
            ])],
            critical,
            "network tool",
        ),
        rule(
            "shell-rm-recursive",
            "shell.exec",
            vec![command(
                &["rm"],
                &["-*r*", "-*R*", "-*f*", "--recursive", "--force"],
                false,
            )],
            critical,
            "recursive or forced deletion",
        ),
        rule(
            "shell-raw-disk",
            "shell.exec",
            vec![programs(&["dd", "shred"])],
            critical,
            "raw device or overwrite",
        ),
        rule(
            "shell-pipe-interpreter",
            "shell.exec",
            vec![command(INTERPRETERS, &[], true)],
            critical,
            "piping into an interpreter",
        ),
        rule(
            "shell-eval",
            "shell.exec",
            vec![programs(&["eval"])],
            critical,
            "eval",
        ),
        rule(
            "shell-dev-tcp",
            "shell.exec",
            vec![Condition::Redirect(RedirectMatch {
                path: PathTest::Like(strings(&["/dev/tcp/*", "/dev/udp/*"])),
                writes_only: false,
                except: Vec::new(),
            })],
            critical,
            "network socket through /dev/tcp",
        ),
        rule(
            "shell-inline-code",
            "shell.exec",
            vec![command(
                &[
                    "python", "python3", "python2", "perl", "ruby", "node", "nodejs", "php",
                ],
                &["-c", "-e", "-E", "--eval", "-r"],
                false,
            )],
            high,
            "inline interpreter code",
        ),
        rule(
            "shell-write-outside",
            "shell.exec",
            vec![Condition::Redirect(RedirectMatch {
                path: PathTest::OutsideWorkspace,
                writes_only: true,
                except: strings(&["/dev/null", "/dev/stdout", "/dev/stderr", "/dev/fd/*"]),
            })],
            high,
            "redirection writing outside the workspace",
        ),
    ]
}
