//! The built-in judgement of a parsed command line: the least tier at which it may run.
//!
//! Shell rules name bad programs, and a denylist always leaks. The judgement turns that
//! around: a line is low only when every program it can start is known to the engine as safe
//! for that use, with its arguments checked. Each simple command (the parser has already
//! surfaced the ones hidden in substitutions, `sh -c` strings, `trap` actions and wrappers)
//! is looked up in [`table`] by its file name and gets one [`Finding`]; so do its variable
//! assignments and its redirections.
//!
//! - **Low** — read-only inspection and workspace-local text tools (`ls`, `cat`, `grep`,
//!   `sort`, `diff`, `echo`, `jq`, …), builtins, and launchers (`env`, `nice`, `timeout`,
//!   `sh -c`), whose commands are judged on their own. Programs whose safety depends on their
//!   arguments are checked: `find` without `-delete` or writing actions, `sed` and `awk` whose
//!   scripts are read (their `e`/`w` commands, `system()`, pipes and redirections are judged
//!   by what they run or write), `tee`, `cp`, `mv`, `touch`, `mkdir` into workspace-relative
//!   paths, `tar` creating or listing an archive in the workspace, read-only `git`, and the
//!   read-only subcommands of package managers (`cargo fmt`, `npm ls`, `pip list`).
//! - **Medium** — anything unknown ("unknown program: NAME"), deleting files inside the
//!   workspace, local repository changes (`git add`, `git stash`), extracting archives.
//! - **High** — code the engine cannot read: interpreters with a script, a module or inline
//!   code, `make` and build tools, a program in the workspace (`./run.sh`), a shell reading a
//!   file or its input, `git` with `-c`/`--git-dir` or a subcommand that runs hooks or an
//!   alias, `xargs` feeding a non-read-only program, `tar --to-command`, an `awk` or `sed`
//!   command built at run time, variables that point programs at code (`PYTHONPATH`, `HOME`,
//!   `GIT_CONFIG_GLOBAL`); writes outside the workspace, into `.git`, or to a path computed
//!   at run time; `cd` out of the workspace; and a word that may turn into an option at run
//!   time for a program with an option that runs or writes (`tar czf x.tgz *` beside a file
//!   named `--checkpoint-action=exec=sh x`, `rm {-rf,x}`).
//! - **Critical** — network access (`curl`, `ssh`, `openssl s_client`, `git clone`/`fetch`/
//!   `push`, package installs, `python -m http.server`, gawk's `/inet`, `busybox`),
//!   `/dev/tcp` sockets, recursive deletion, raw disk tools, privilege changes; a command
//!   string another program runs (`awk`'s `system("…")`, `sed`'s `e`, `GIT_PAGER=…`) that
//!   cannot be parsed, like a line that cannot be.
//!
//! Command strings that programs run are parsed and judged like a line of their own, so
//! `awk 'BEGIN{system("curl x")}'` is critical and `GIT_PAGER=cat git log` low. Redirections
//! are judged too (a write outside the workspace or into `.git` is high, a `/dev/tcp` socket
//! critical, reading a path known only at run time high), so the judgement stands on its own
//! even where an Admin has removed the default rules that say the same.
//!
//! The line's judgement is the highest tier of its findings. `eval` raises the action's tier
//! to it the way it raises an unparseable line to critical: after `lower` rules, so no rule
//! takes a line below it (a standing grant may still allow a medium or high line, never a
//! critical one). What no static reading can catch — a program steered by files the agent
//! wrote earlier, such as a crafted repository that `git status` discovers or a symbolic link
//! that leads a workspace path outside — is left to the sandbox (no network unless allowed,
//! writes only inside the workspace).
//!
//! The fast path passes a reporter that ignores findings: judging allocates nothing unless a
//! path needs normalising or a program runs a command string, which is parsed and judged in
//! turn (an `awk` string with escapes is decoded first).

mod archive;
mod awk;
mod builtins;
mod environ;
mod files;
mod git;
mod interp;
mod launch;
mod openssl;
mod options;
mod packages;
mod place;
mod sed;
mod table;
mod text;

use crate::args::{self, PathForm};
use crate::shell::{parse, CommandLine, Redirect, SimpleCommand, Unparseable, Word, MAX_DEPTH};
use crate::tier::Tier;
use std::fmt;
use table::Class;

pub(crate) use environ::split as split_assignment;
pub(crate) use place::Place;

/// Receives every finding with the command it is about.
pub(crate) type Report<'r> = &'r mut dyn FnMut(&SimpleCommand, &Finding<'_>);

/// What the judgement found about one command or one of its redirections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Finding<'c> {
    /// The least tier this finding allows.
    pub(crate) tier: Tier,
    /// The program's file name (`git`), empty for a line that only assigns or redirects.
    pub(crate) program: &'c str,
    /// The subcommand that decided, when there is one (`clone`).
    pub(crate) sub: Option<&'c str>,
    /// Why.
    pub(crate) why: Why<'c>,
}

/// The reason behind a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why<'c> {
    /// Safe for this use; the phrase says what it does ("read-only").
    Safe(&'static str),
    /// Not in the table.
    Unknown,
    /// A fixed phrase ("network access").
    Says(&'static str),
    /// The phrase, the named thing in backquotes, then the rest of the sentence.
    Names(&'static str, &'c str, &'static str),
    /// Reads or writes a path: the verb ("writes to"), the path, and where it points.
    Path(&'static str, &'c str, Place),
    /// Runs a command string, judged on its own.
    Runs(&'c str),
    /// Runs a command string that cannot be parsed.
    Unparsed(&'c str, &'c Unparseable),
}

impl<'c> Finding<'c> {
    pub(crate) fn new(tier: Tier, program: &'c str, why: Why<'c>) -> Self {
        Finding {
            tier,
            program,
            sub: None,
            why,
        }
    }

    pub(crate) fn low(program: &'c str, what: &'static str) -> Self {
        Self::new(Tier::Low, program, Why::Safe(what))
    }

    pub(crate) fn says(tier: Tier, program: &'c str, what: &'static str) -> Self {
        Self::new(tier, program, Why::Says(what))
    }

    /// A finding about writing (`verb`) the path in `word`.
    pub(crate) fn write(program: &'c str, verb: &'static str, word: &'c Word) -> Self {
        let at = place::place(word);
        Self::new(at.write_tier(), program, Why::Path(verb, &word.text, at))
    }

    /// The same finding, about a subcommand.
    pub(crate) fn of(mut self, sub: &'c str) -> Self {
        self.sub = Some(sub);
        self
    }

    /// The stricter of two findings. On a tie the first, unless it only says the program is
    /// safe and the other says more (`sed: runs `echo x`` rather than `sed: edits text`).
    pub(crate) fn or(self, other: Finding<'c>) -> Finding<'c> {
        let says_more = matches!(self.why, Why::Safe(_)) && !matches!(other.why, Why::Safe(_));
        if other.tier > self.tier || (other.tier == self.tier && says_more) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for Finding<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Why::Unknown = self.why {
            return write!(f, "unknown program: {}", self.program);
        }
        // A line that only assigns or redirects has no program to name.
        match (self.program, self.sub) {
            ("", _) => {}
            (program, Some(sub)) => write!(f, "{program} {sub}: ")?,
            (program, None) => write!(f, "{program}: ")?,
        }
        match self.why {
            Why::Safe(what) | Why::Says(what) => f.write_str(what),
            Why::Names(before, name, after) => write!(f, "{before} `{name}`{after}"),
            Why::Path(verb, path, at) => write!(f, "{verb} {path} {}", at.phrase()),
            Why::Runs(line) => write!(f, "runs `{line}`, which is judged on its own"),
            Why::Unparsed(line, e) => {
                write!(
                    f,
                    "runs `{line}`, which is critical because it cannot be parsed: {e}"
                )
            }
            Why::Unknown => Ok(()),
        }
    }
}

/// Judges every command of `line` and returns the least tier the line may run at.
pub(crate) fn floor(line: &CommandLine, report: Report<'_>) -> Tier {
    judge_commands(&line.commands, 0, report)
}

/// Parses and judges a command string that `cmd` runs (`awk`'s `system("…")`, `sed`'s `e`
/// command, the value of `GIT_PAGER`). A string that cannot be parsed is critical, like a
/// line, and reported as such.
fn nested(text: &str, cmd: &SimpleCommand, depth: usize, report: Report<'_>) -> Tier {
    let parsed = if depth >= MAX_DEPTH {
        Err(Unparseable::TooDeep(MAX_DEPTH))
    } else {
        parse(text)
    };
    match parsed {
        Ok(line) => judge_commands(&line.commands, depth + 1, report),
        Err(e) => {
            let finding = Finding::new(Tier::Critical, cmd.basename(), Why::Unparsed(text, &e));
            report(cmd, &finding);
            Tier::Critical
        }
    }
}

fn judge_commands(commands: &[SimpleCommand], depth: usize, report: Report<'_>) -> Tier {
    let mut tier = Tier::Low;
    for cmd in commands {
        tier = tier.max(judge_command(cmd, depth, report));
    }
    tier
}

/// What a checking function needs: the command, its name as judged, and the reporter for
/// commands it runs in turn.
pub(crate) struct Call<'c, 'r> {
    pub(crate) name: &'c str,
    pub(crate) args: &'c [Word],
    pub(crate) cmd: &'c SimpleCommand,
    pub(crate) depth: usize,
    pub(crate) report: Report<'r>,
}

impl Call<'_, '_> {
    /// Judges a command string this program runs; see [`nested`].
    pub(crate) fn runs(&mut self, text: &str) -> Tier {
        nested(text, self.cmd, self.depth, self.report)
    }
}

fn judge_command(cmd: &SimpleCommand, depth: usize, report: Report<'_>) -> Tier {
    let mut tier = Tier::Low;
    for word in &cmd.assignments {
        let mut call = Call {
            name: cmd.basename(),
            args: &[],
            cmd,
            depth,
            report: &mut *report,
        };
        if let Some(finding) = environ::assignment(&mut call, word) {
            report(cmd, &finding);
            tier = tier.max(finding.tier);
        }
    }
    if !cmd.program.is_empty() {
        let finding = program(cmd, depth, report);
        report(cmd, &finding);
        tier = tier.max(finding.tier);
    }
    for r in &cmd.redirects {
        if let Some(finding) = redirect(cmd, r) {
            report(cmd, &finding);
            tier = tier.max(finding.tier);
        }
    }
    tier
}

/// Folders of the system's own programs: a path there is judged by its file name.
const SYSTEM_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
];

fn program<'c>(cmd: &'c SimpleCommand, depth: usize, report: Report<'_>) -> Finding<'c> {
    let written = cmd.program.as_str();
    let name = match resolve(written) {
        Ok(name) => name,
        Err(finding) => return finding,
    };
    let mut call = Call {
        name,
        args: &cmd.args,
        cmd,
        depth,
        report,
    };
    let finding = match table::lookup(name) {
        None => Finding::new(Tier::Medium, name, Why::Unknown),
        Some(Class::Read(what)) => Finding::low(name, what),
        Some(Class::Builtin) => Finding::low(name, "a shell builtin"),
        Some(Class::Launcher) => Finding::low(name, "starts the command it is given"),
        Some(Class::Check(check)) => check(&mut call),
        Some(Class::Code(_)) if options::asks_only_for_info(&cmd.args) => {
            Finding::low(name, "prints its version or help")
        }
        Some(Class::Code(what)) => Finding::says(Tier::High, name, what),
        Some(Class::Manager(manager)) => packages::manager(manager, &call),
        Some(Class::Fixed(tier, what)) => Finding::says(*tier, name, what),
    };
    match cmd.args.iter().find(|a| place::names_socket(&a.text)) {
        Some(socket) => finding.or(Finding::new(
            Tier::Critical,
            name,
            Why::Names("names the network socket", &socket.text, ""),
        )),
        None => finding,
    }
}

/// The file name to judge a program by, or the finding when its path alone decides.
fn resolve(written: &str) -> Result<&str, Finding<'_>> {
    let Some((dir, name)) = written.rsplit_once('/') else {
        return Ok(written);
    };
    let system = match args::normalize(written) {
        PathForm::Absolute(p) => p
            .rsplit_once('/')
            .is_some_and(|(d, _)| SYSTEM_DIRS.contains(&d)),
        PathForm::Relative(_) | PathForm::Escapes => false,
    };
    if system && !name.is_empty() && !written.starts_with('~') {
        return Ok(name);
    }
    let why = if written.starts_with('/') || written.starts_with('~') || dir.starts_with("..") {
        Why::Names(
            "runs",
            written,
            ", a program outside the system's program folders",
        )
    } else {
        Why::Names(
            "runs",
            written,
            ", a program in the workspace that the engine cannot read",
        )
    };
    Err(Finding::new(Tier::High, name, why))
}

/// The finding for one redirection, when it matters. Reading is harmless unless the path is
/// a socket, or known only at run time and so possibly one.
fn redirect<'c>(cmd: &'c SimpleCommand, r: &'c Redirect) -> Option<Finding<'c>> {
    if !r.is_file() {
        return None;
    }
    let at = place::place(&r.target);
    let program = cmd.basename();
    if at == Place::Socket {
        return Some(Finding::new(
            Tier::Critical,
            program,
            Why::Path("redirects to", &r.target.text, at),
        ));
    }
    if !r.writes() && at == Place::Computed {
        return Some(Finding::new(
            Tier::High,
            program,
            Why::Names(
                "reads from",
                &r.target.text,
                ", a path known only at run time that may be a network socket",
            ),
        ));
    }
    if !r.writes() || at.write_tier() == Tier::Low {
        return None;
    }
    Some(Finding::new(
        at.write_tier(),
        program,
        Why::Path("redirects output to", &r.target.text, at),
    ))
}
