//! POSIX-sh command lines parsed into the simple commands they would run.
//!
//! The policy judges a shell call by every program it can start, not by the first word of the
//! line: `ls && curl x`, `ls; rm -rf /`, `echo $(curl x)`, `` echo `id` ``, `cat f | sh`,
//! `sh -c 'curl x'` and `env curl x` all surface `curl`, `rm`, `id` or `sh` as commands of
//! their own. [`parse`] walks the line once, recursing into subshells, groups, command and
//! process substitutions, the strings run by `sh -c`, `bash -c`, `eval` and `watch`, and the
//! programs run by wrappers (`env`, `xargs`, `find -exec`, `timeout`, `nohup`, …).
//!
//! Whatever cannot be judged statically is an error ([`Unparseable`]): a program name that is
//! itself an expansion, here-documents, unbalanced quotes, `case` and function definitions,
//! aliases, `exec` rewiring descriptors, assignments to `PATH`/`LD_PRELOAD`/`IFS`-like
//! variables that change what a later name means. The policy judges such lines critical.
//!
//! What the parser does not see: programs that run code from their own arguments or files in
//! ways of their own (`awk 'BEGIN{system(…)}'`, `git -c core.pager=…`, `make`, a script in the
//! workspace). The built-in judgement (`judge`) reads the arguments of the programs it knows
//! and raises what it cannot read; the shell sandbox (no network unless allowed, writes only
//! inside the workspace) is the second line for what no static reading can catch.

pub(crate) mod judge;
mod parser;
mod words;
mod wrappers;

/// Every simple command a command line would run, in source order (a command substitution's
/// commands come before the command that uses them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandLine {
    /// The commands.
    pub commands: Vec<SimpleCommand>,
}

/// One program invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// Variable assignments written before the program (`GIT_PAGER=cat git log`), whole
    /// `NAME=value` words after quote removal. A line of assignments alone (`HOME=.`) is a
    /// command with an empty program: an assignment to a variable already exported changes
    /// the environment of every later command.
    pub assignments: Vec<Word>,
    /// The program as written, after quote removal (`/usr/bin/curl`, `curl`). Empty for a
    /// line that only redirects (`> file`) or assigns.
    pub program: String,
    /// Arguments after quote removal.
    pub args: Vec<Word>,
    /// File and descriptor redirections of this command (including those of an enclosing
    /// subshell or group).
    pub redirects: Vec<Redirect>,
    /// Standard input comes from a pipe (`… | sh`).
    pub piped_input: bool,
    /// How the command was reached.
    pub origin: Origin,
}

impl SimpleCommand {
    /// The program's file name: `/usr/bin/curl` is `curl`.
    pub fn basename(&self) -> &str {
        self.program.rsplit('/').next().unwrap_or("")
    }

    /// The command as a short display string, for reasons.
    pub fn display(&self) -> String {
        let program = (!self.program.is_empty()).then_some(self.program.as_str());
        let words = self
            .assignments
            .iter()
            .map(|w| w.text.as_str())
            .chain(program)
            .chain(self.args.iter().map(|w| w.text.as_str()));
        let mut s = String::new();
        for w in words {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(w);
        }
        s
    }
}

/// A word after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text; expansions keep their source form (`$HOME`, `$(…)`, `{a,b}`).
    pub text: String,
    /// False when the word contains a parameter, command, arithmetic or brace expansion, so
    /// its run-time value (or values: `{a,b}` is two words) is unknown.
    pub literal: bool,
    /// The word holds an unquoted `*`, `?` or `[`, so pathname expansion may replace it with
    /// the names of files, which whoever wrote the files chose.
    pub glob: bool,
}

impl Word {
    /// True when the program may receive something other than this text where an option can
    /// stand: an expansion (which may also split into several words), or a pattern whose
    /// matches may begin with `-` (`tar cf x.tar *` next to a file named
    /// `--checkpoint-action=exec=sh x`).
    pub fn may_be_option(&self) -> bool {
        !self.literal || (self.glob && self.text.starts_with(['*', '?', '[']))
    }
}

/// How a command was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Written directly in the line (also inside subshells and groups).
    Direct,
    /// Inside a command substitution `$(…)`, backticks, or a process substitution `<(…)`.
    Substitution,
    /// Inside a string run by `sh -c`, `bash -c`, `eval` or `watch`.
    ShellString,
    /// Started by a wrapper such as `env`, `xargs`, `timeout` or `find -exec`.
    Wrapped,
}

/// A redirection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The descriptor number written before the operator (`2>`), if any.
    pub fd: Option<u32>,
    /// The operator.
    pub op: RedirectOp,
    /// The target word: a path, or a descriptor for duplications.
    pub target: Word,
}

impl Redirect {
    /// True when the redirection opens a file for writing.
    pub fn writes(&self) -> bool {
        !matches!(self.op, RedirectOp::Read | RedirectOp::Dup)
    }

    /// True when the target is a file (not a descriptor duplication such as `2>&1`).
    pub fn is_file(&self) -> bool {
        self.op != RedirectOp::Dup
    }
}

/// Redirection operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectOp {
    /// `<`
    Read,
    /// `>`
    Write,
    /// `>>`
    Append,
    /// `>|`
    Clobber,
    /// `<>`
    ReadWrite,
    /// `&>` or `>&file`: standard output and error to a file.
    WriteBoth,
    /// `&>>`
    AppendBoth,
    /// `>&N`, `<&N`, `>&-`: descriptor duplication or closing.
    Dup,
}

/// Why a command line cannot be judged statically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unparseable {
    /// A quote or backtick is never closed.
    #[error("a quote opened at byte {0} is never closed")]
    UnbalancedQuote(usize),
    /// A `(`, `$(` or `{` is never closed, or a `)` has no opener.
    #[error("unbalanced parenthesis at byte {0}")]
    UnbalancedParen(usize),
    /// An operator where a command should be (`| x`, `x |`, `;;`).
    #[error("unexpected `{token}` at byte {at}")]
    Unexpected {
        /// The token.
        token: String,
        /// Byte offset.
        at: usize,
    },
    /// The program to run is known only at run time.
    #[error("the program name `{0}` is computed at run time, so what runs cannot be judged")]
    ComputedProgram(String),
    /// A construct the parser deliberately does not judge.
    #[error("{0} cannot be judged statically")]
    Unsupported(&'static str),
    /// A variable assignment that changes how later names are resolved or run.
    #[error("assigning {0} changes which programs later names run")]
    DangerousAssignment(String),
    /// Too many nested substitutions or shell strings.
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
}

/// How deep substitutions, shell strings and wrappers may nest before the line is refused.
pub const MAX_DEPTH: usize = 12;

/// Parses a POSIX-sh command line.
pub fn parse(line: &str) -> Result<CommandLine, Unparseable> {
    let mut out = CommandLine::default();
    parser::parse_into(line, 0, Origin::Direct, &mut out.commands)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
