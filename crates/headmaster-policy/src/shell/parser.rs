//! The recursive-descent walk over a command line.
//!
//! One cursor over the bytes, with `list` for sequences (`;`, `&&`, `||`, `&`, `|`, newlines)
//! and `command` for one simple command or subshell with its redirections; words and their
//! expansions are read in `words`. All special characters are ASCII, so slicing the source at
//! their positions always lands on UTF-8 boundaries.

use super::wrappers::{self, check_assignment, check_stored_code, Next};
use super::{Origin, Redirect, SimpleCommand, Unparseable, Word, MAX_DEPTH};

type Result<T> = std::result::Result<T, Unparseable>;

/// Parses `src` and appends its commands to `out`.
pub(super) fn parse_into(
    src: &str,
    depth: usize,
    origin: Origin,
    out: &mut Vec<SimpleCommand>,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Unparseable::TooDeep(MAX_DEPTH));
    }
    let mut p = Parser {
        text: src,
        b: src.as_bytes(),
        pos: 0,
        depth,
        origin,
        out,
    };
    p.list(Close::End, false)
}

/// A word as the parser sees it, with the facts needed to judge it as a program name.
#[derive(Debug, Clone)]
pub(super) struct RawWord {
    pub(super) word: Word,
    /// Some part was quoted or escaped, so it is never a reserved word.
    pub(super) quoted: bool,
    /// An unquoted `*`, `?` or `[`: pathname expansion may change it.
    pub(super) glob: bool,
    /// An unquoted `{`: brace expansion may change it.
    pub(super) brace: bool,
    /// Offset in the source, for assignment detection.
    pub(super) start: usize,
}

impl RawWord {
    /// The variable name when this word is an assignment `NAME=value` (or bash's appending
    /// `NAME+=value`) with an unquoted name.
    pub(super) fn assignment_name<'w>(&'w self, src: &'w str) -> Option<&'w str> {
        let raw = &src.as_bytes()[self.start..];
        let name_len = raw
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .unwrap_or(raw.len());
        let starts_ok = raw
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        let equals = match raw.get(name_len) {
            Some(b'=') => true,
            Some(b'+') => raw.get(name_len + 1) == Some(&b'='),
            _ => false,
        };
        (starts_ok && equals).then(|| &src[self.start..self.start + name_len])
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Close {
    End,
    Paren,
}

pub(super) struct Parser<'s, 'o> {
    pub(super) text: &'s str,
    pub(super) b: &'s [u8],
    pub(super) pos: usize,
    pub(super) depth: usize,
    pub(super) origin: Origin,
    pub(super) out: &'o mut Vec<SimpleCommand>,
}

impl Parser<'_, '_> {
    pub(super) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    pub(super) fn peek_at(&self, n: usize) -> Option<u8> {
        self.b.get(self.pos + n).copied()
    }

    pub(super) fn starts(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    pub(super) fn unexpected(&self, token: &str) -> Unparseable {
        Unparseable::Unexpected {
            token: token.to_owned(),
            at: self.pos,
        }
    }

    pub(super) fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'\\') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
                _ => return,
            }
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some(b'#') {
            while self.peek().is_some_and(|c| c != b'\n') {
                self.pos += 1;
            }
        }
    }

    /// A sequence of pipelines up to the end of input or a closing parenthesis.
    pub(super) fn list(&mut self, close: Close, mut piped: bool) -> Result<()> {
        let open = self.pos.saturating_sub(1);
        let mut need_command = false;
        loop {
            self.skip_blanks();
            self.skip_comment();
            match self.peek() {
                None => {
                    if need_command {
                        return Err(self.unexpected("end of line"));
                    }
                    return match close {
                        Close::End => Ok(()),
                        Close::Paren => Err(Unparseable::UnbalancedParen(open)),
                    };
                }
                Some(b')') => {
                    if close == Close::End {
                        return Err(Unparseable::UnbalancedParen(self.pos));
                    }
                    if need_command {
                        return Err(self.unexpected(")"));
                    }
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\n') => {
                    // A newline may follow `|`, `&&` or `||` before the next command.
                    self.pos += 1;
                    if !need_command {
                        piped = false;
                    }
                    continue;
                }
                Some(b';') => {
                    if need_command || self.starts(";;") || self.starts(";&") {
                        return Err(self.unexpected(";"));
                    }
                    self.pos += 1;
                    piped = false;
                    continue;
                }
                Some(b'&') if !self.starts("&>") => {
                    if need_command {
                        return Err(self.unexpected("&"));
                    }
                    if self.starts("&&") {
                        self.pos += 2;
                        need_command = true;
                    } else {
                        self.pos += 1;
                    }
                    piped = false;
                    continue;
                }
                Some(b'|') => return Err(self.unexpected("|")),
                _ => {}
            }
            self.command(piped)?;
            need_command = false;
            piped = false;
            self.skip_blanks();
            if self.starts("||") {
                self.pos += 2;
                need_command = true;
            } else if self.starts("|&") {
                self.pos += 2;
                piped = true;
                need_command = true;
            } else if self.peek() == Some(b'|') {
                self.pos += 1;
                piped = true;
                need_command = true;
            }
        }
    }

    /// One simple command, or a subshell with its trailing redirections.
    fn command(&mut self, piped: bool) -> Result<()> {
        let first = self.out.len();
        let mut assignments: Vec<Word> = Vec::new();
        let mut timed = false;
        let mut words: Vec<RawWord> = Vec::new();
        let mut redirects = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some(b'\n' | b';' | b'|' | b')') => break,
                Some(b'&') if !self.starts("&>") => break,
                Some(b'#') => {
                    self.skip_comment();
                    break;
                }
                Some(b'(') => {
                    if !words.is_empty() || !redirects.is_empty() || !assignments.is_empty() {
                        return Err(if words.len() == 1 {
                            Unparseable::Unsupported("a function definition")
                        } else {
                            self.unexpected("(")
                        });
                    }
                    self.pos += 1;
                    self.list(Close::Paren, piped)?;
                    return self.subshell_redirects(first, piped);
                }
                _ => {}
            }
            if self.at_redirect() {
                redirects.push(self.redirect()?);
                continue;
            }
            let word = self.word()?;
            if words.is_empty() {
                // The source decides: only an unquoted `NAME=` prefix makes an assignment.
                if let Some(name) = word.assignment_name(self.text) {
                    check_assignment(name)?;
                    check_stored_code(&word.word)?;
                    assignments.push(word.word);
                    continue;
                }
            }
            if words.is_empty() && !word.quoted {
                match reserved(&word.word.text) {
                    Reserved::Transparent => {
                        timed = word.word.text == "time";
                        continue;
                    }
                    Reserved::Refused(what) => return Err(Unparseable::Unsupported(what)),
                    Reserved::No => {}
                }
                // `time -p PIPELINE`: the option belongs to the reserved word, and the
                // program is the word after it.
                if std::mem::take(&mut timed) && word.word.text == "-p" {
                    continue;
                }
            }
            words.push(word);
        }
        let origin = self.origin;
        self.emit(assignments, words, redirects, piped, origin, self.depth)
    }

    /// Redirections after `( … )` apply to every command inside it.
    fn subshell_redirects(&mut self, first: usize, piped: bool) -> Result<()> {
        let mut trailing = Vec::new();
        loop {
            self.skip_blanks();
            if !self.at_redirect() {
                break;
            }
            trailing.push(self.redirect()?);
        }
        if trailing.is_empty() {
            return Ok(());
        }
        if self.out.len() == first {
            return self.emit(
                Vec::new(),
                Vec::new(),
                trailing,
                piped,
                self.origin,
                self.depth,
            );
        }
        for cmd in &mut self.out[first..] {
            cmd.redirects.extend(trailing.iter().cloned());
        }
        Ok(())
    }

    /// Records one simple command and follows whatever it runs in turn.
    pub(super) fn emit(
        &mut self,
        assignments: Vec<Word>,
        words: Vec<RawWord>,
        redirects: Vec<Redirect>,
        piped: bool,
        origin: Origin,
        depth: usize,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Unparseable::TooDeep(MAX_DEPTH));
        }
        let Some(program) = words.first() else {
            if !redirects.is_empty() || !assignments.is_empty() {
                self.out.push(SimpleCommand {
                    assignments,
                    program: String::new(),
                    args: Vec::new(),
                    redirects,
                    piped_input: piped,
                    origin,
                });
            }
            return Ok(());
        };
        // A lone `[` (or bash's `[[`) is the `test` command, not a pattern: a bracket
        // expression needs its `]` in the same word, so the shell runs it as written.
        let lone_bracket = program.word.literal && matches!(program.word.text.as_str(), "[" | "[[");
        if !program.word.literal || (program.glob && !lone_bracket) || program.brace {
            return Err(Unparseable::ComputedProgram(program.word.text.clone()));
        }
        let base = program
            .word
            .text
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_owned();
        if base == "exec" && words.len() == 1 && !redirects.is_empty() {
            return Err(Unparseable::Unsupported("`exec` rewiring file descriptors"));
        }
        let next = wrappers::next(&base, &words[1..])?;
        self.out.push(SimpleCommand {
            assignments,
            program: program.word.text.clone(),
            args: words[1..].iter().map(|w| w.word.clone()).collect(),
            redirects,
            piped_input: piped,
            origin,
        });
        match next {
            Next::Nothing => Ok(()),
            Next::Run(ranges) => {
                for range in ranges {
                    let inner = words[1..][range].to_vec();
                    self.emit(
                        Vec::new(),
                        inner,
                        Vec::new(),
                        piped,
                        Origin::Wrapped,
                        depth + 1,
                    )?;
                }
                Ok(())
            }
            Next::Script(script) => parse_into(&script, depth + 1, Origin::ShellString, self.out),
        }
    }
}

enum Reserved {
    Transparent,
    Refused(&'static str),
    No,
}

/// Reserved words at the start of a command. Control structures are flattened: their bodies
/// are ordinary commands, and every one of them is judged whether or not it would run.
fn reserved(word: &str) -> Reserved {
    match word {
        "!" | "{" | "}" | "if" | "then" | "else" | "elif" | "fi" | "do" | "done" | "while"
        | "until" | "time" => Reserved::Transparent,
        "case" | "esac" => Reserved::Refused("a `case` statement"),
        "function" => Reserved::Refused("a function definition"),
        "select" => Reserved::Refused("a `select` loop"),
        "coproc" => Reserved::Refused("a coprocess"),
        _ => Reserved::No,
    }
}
