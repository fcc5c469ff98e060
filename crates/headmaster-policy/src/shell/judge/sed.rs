//! `sed`, judged by reading its script the way GNU sed 4.9 does.
//!
//! A sed script is plain text tooling except for a few commands: `w`/`W` and the `w` flag of
//! `s` write a file, `e` runs a command (or, with nothing after it, runs the pattern space),
//! and the `e` flag of `s` runs the result of the substitution. The scanner walks addresses,
//! commands and their arguments (regexes with bracket expressions, replacements, labels, the
//! text of `a`/`i`/`c` up to the end of a line that does not end in a backslash, file names up
//! to the end of the line) and reports those effects; whatever it cannot follow is reported
//! as unclear and judged high. `-i` edits its files in place, so they are judged as writes;
//! `--sandbox` makes sed itself refuse `e`, `w` and `r`.

use super::options::{long_is, unseen, walk, Item, Spec};
use super::place::place_of;
use super::{Call, Finding, Why};
use crate::tier::Tier;

/// What a script does beyond printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect<'s> {
    /// Writes this file.
    Writes(&'s str),
    /// Runs this command line.
    Runs(&'s str),
    /// Runs text made from its input as a command.
    RunsInput,
    /// The scanner could not follow the script.
    Unclear,
}

const SPEC: Spec = Spec {
    short: "efl",
    short_attached: "i",
    long: &["expression", "file", "line-length"],
};

pub(crate) fn judge<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    let mut scripts_in_options = false;
    let mut in_place = false;
    let mut sandbox = false;
    let mut worst = Finding::low(name, "edits text with a script that was checked");
    walk(args, &SPEC, |item| match item {
        Item::Short('e', _) => scripts_in_options = true,
        Item::Short('f', _) => {
            scripts_in_options = true;
            worst = worst.or(from_file(name));
        }
        Item::Short('i', _) => in_place = true,
        Item::Long(n, _) if long_is(n, "expression") => scripts_in_options = true,
        Item::Long(n, _) if long_is(n, "file") => {
            scripts_in_options = true;
            worst = worst.or(from_file(name));
        }
        Item::Long(n, _) if long_is(n, "in-place") => in_place = true,
        Item::Long("sandbox", _) => sandbox = true,
        _ => {}
    });
    let mut script_operand = !scripts_in_options;
    walk(args, &SPEC, |item| {
        let script = match item {
            Item::Short('e', Some(v)) => Some(v),
            Item::Long(n, Some(v)) if long_is(n, "expression") => Some(v),
            Item::Operand(w) | Item::Computed(w) if script_operand => {
                script_operand = false;
                Some(super::options::Val {
                    text: &w.text,
                    literal: !w.may_be_option(),
                })
            }
            Item::Operand(w) => {
                if in_place {
                    worst = worst.or(Finding::write(name, "edits", w));
                }
                None
            }
            // A pattern such as `*` may match a file named `--expression=e curl x`.
            Item::Computed(w) => {
                worst = worst.or(unseen(name, w));
                None
            }
            _ => None,
        };
        match script {
            Some(v) if !v.literal => {
                worst = worst.or(Finding::new(
                    Tier::High,
                    name,
                    Why::Names("has the script", v.text, ", known only at run time"),
                ));
            }
            Some(_) if sandbox => {}
            Some(v) => scan(v.text, |effect| {
                let found = match effect {
                    Effect::Writes(file) => {
                        let at = place_of(file);
                        Finding::new(at.write_tier(), name, Why::Path("writes to", file, at))
                    }
                    Effect::Runs(line) => Finding::new(c.runs(line), name, Why::Runs(line)),
                    Effect::RunsInput => Finding::says(
                        Tier::High,
                        name,
                        "runs text made from its input as a command (`e`)",
                    ),
                    Effect::Unclear => Finding::says(
                        Tier::High,
                        name,
                        "has a script the engine cannot read with confidence",
                    ),
                };
                worst = worst.or(found);
            }),
            None => {}
        }
    });
    worst
}

fn from_file(name: &str) -> Finding<'_> {
    Finding::says(
        Tier::High,
        name,
        "reads its script from a file the engine cannot read",
    )
}

/// Reports every effect of `script`; stops at the first unclear point.
pub(crate) fn scan<'s>(script: &'s str, mut effect: impl FnMut(Effect<'s>)) {
    let mut s = Scanner {
        b: script.as_bytes(),
        text: script,
        i: 0,
    };
    if s.commands(&mut effect).is_none() {
        effect(Effect::Unclear);
    }
}

struct Scanner<'s> {
    b: &'s [u8],
    text: &'s str,
    i: usize,
}

impl<'s> Scanner<'s> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// The rest of the line, from the cursor, without leading blanks; moves past it.
    fn rest_of_line(&mut self) -> &'s str {
        self.spaces();
        let start = self.i;
        while self.peek().is_some_and(|b| b != b'\n') {
            self.i += 1;
        }
        &self.text[start..self.i]
    }

    /// Every command of the script; `None` when it cannot be followed.
    fn commands(&mut self, effect: &mut impl FnMut(Effect<'s>)) -> Option<()> {
        loop {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b';')) {
                self.i += 1;
            }
            let Some(first) = self.peek() else {
                return Some(());
            };
            if first == b'#' {
                self.rest_of_line();
                continue;
            }
            self.address()?;
            self.spaces();
            if self.peek() == Some(b',') {
                self.i += 1;
                self.spaces();
                if matches!(self.peek(), Some(b'+' | b'~')) {
                    self.i += 1;
                    self.digits();
                } else if !self.address()? {
                    return None;
                }
            }
            self.spaces();
            while self.peek() == Some(b'!') {
                self.i += 1;
                self.spaces();
            }
            let cmd = self.peek()?;
            self.i += 1;
            match cmd {
                b'{' | b'}' => {}
                b'=' | b'd' | b'D' | b'g' | b'G' | b'h' | b'H' | b'n' | b'N' | b'p' | b'P'
                | b'x' | b'z' | b'F' => self.end()?,
                b'l' | b'L' | b'q' | b'Q' => {
                    self.spaces();
                    self.digits();
                    self.end()?;
                }
                b':' | b'b' | b't' | b'T' | b'v' => {
                    while self.peek().is_some_and(|b| b != b'\n' && b != b';') {
                        self.i += 1;
                    }
                }
                b'a' | b'i' | b'c' => self.text_block(),
                b'r' | b'R' => {
                    self.rest_of_line();
                }
                b'w' | b'W' => {
                    let file = self.rest_of_line();
                    if file.is_empty() {
                        return None;
                    }
                    effect(Effect::Writes(file));
                }
                b'e' => match self.rest_of_line() {
                    "" => effect(Effect::RunsInput),
                    line => effect(Effect::Runs(line)),
                },
                b's' => self.substitute(effect)?,
                b'y' => {
                    let delim = self.delimiter()?;
                    self.plain(delim)?;
                    self.plain(delim)?;
                    self.end()?;
                }
                _ => return None,
            }
        }
    }

    fn digits(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        self.i > start
    }

    /// An optional address; `Some(false)` when there is none.
    fn address(&mut self) -> Option<bool> {
        match self.peek() {
            Some(b) if b.is_ascii_digit() => {
                self.digits();
                if self.peek() == Some(b'~') {
                    self.i += 1;
                    self.digits();
                }
            }
            Some(b'$') => self.i += 1,
            Some(b'/') => {
                self.i += 1;
                self.regex(b'/')?;
                self.regex_flags();
            }
            Some(b'\\') => {
                self.i += 1;
                let delim = self.delimiter()?;
                self.regex(delim)?;
                self.regex_flags();
            }
            _ => return Some(false),
        }
        Some(true)
    }

    fn regex_flags(&mut self) {
        while matches!(self.peek(), Some(b'I' | b'M')) {
            self.i += 1;
        }
    }

    /// A delimiter: one ASCII character other than a backslash or newline. A multibyte
    /// delimiter is read differently by different seds and locales, so it is unclear.
    fn delimiter(&mut self) -> Option<u8> {
        let d = self
            .peek()
            .filter(|&d| d.is_ascii() && d != b'\\' && d != b'\n')?;
        self.i += 1;
        Some(d)
    }

    /// A regex up to `delim`, with escapes and bracket expressions (in which the delimiter
    /// does not end the regex).
    fn regex(&mut self, delim: u8) -> Option<()> {
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b'\\' => {
                    self.peek()?;
                    self.i += 1;
                }
                b'[' => self.bracket()?,
                b'\n' => return None,
                _ if b == delim => return Some(()),
                _ => {}
            }
        }
    }

    fn bracket(&mut self) -> Option<()> {
        if self.peek() == Some(b'^') {
            self.i += 1;
        }
        if self.peek() == Some(b']') {
            self.i += 1;
        }
        loop {
            let b = self.peek()?;
            self.i += 1;
            match b {
                b']' => return Some(()),
                b'[' if matches!(self.peek(), Some(b':' | b'.' | b'=')) => {
                    let close = [self.b[self.i], b']'];
                    self.i += 1;
                    let end = self.b[self.i..].windows(2).position(|w| w == close)?;
                    self.i += end + 2;
                }
                _ => {}
            }
        }
    }

    /// Text up to `delim` with backslash escapes and no brackets (replacements, `y`).
    fn plain(&mut self, delim: u8) -> Option<()> {
        loop {
            let b = self.peek()?;
            self.i += 1;
            if b == b'\\' {
                self.peek()?;
                self.i += 1;
            } else if b == delim {
                return Some(());
            }
        }
    }

    fn substitute(&mut self, effect: &mut impl FnMut(Effect<'s>)) -> Option<()> {
        let delim = self.delimiter()?;
        self.regex(delim)?;
        self.plain(delim)?;
        loop {
            match self.peek() {
                Some(b'g' | b'p' | b'i' | b'I' | b'm' | b'M') => self.i += 1,
                Some(b) if b.is_ascii_digit() => self.i += 1,
                Some(b'e') => {
                    self.i += 1;
                    effect(Effect::RunsInput);
                }
                Some(b'w') => {
                    self.i += 1;
                    let file = self.rest_of_line();
                    if file.is_empty() {
                        return None;
                    }
                    effect(Effect::Writes(file));
                    return Some(());
                }
                _ => return self.end(),
            }
        }
    }

    /// The text of `a`, `i`, `c`: to the end of the line, continued while lines end in `\`.
    fn text_block(&mut self) {
        let mut escaped = false;
        while let Some(b) = self.peek() {
            self.i += 1;
            if b == b'\n' && !escaped {
                return;
            }
            escaped = b == b'\\' && !escaped;
        }
    }

    /// After a command: blanks, then the end, `;`, a newline, `}` or a comment.
    fn end(&mut self) -> Option<()> {
        self.spaces();
        match self.peek() {
            None | Some(b';' | b'\n' | b'}' | b'#') => Some(()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effects(script: &str) -> Vec<Effect<'_>> {
        let mut out = Vec::new();
        scan(script, |e| out.push(e));
        out
    }

    #[test]
    fn plain_scripts_have_no_effects() {
        for script in [
            "s/foo/bar/g",
            "1,10p",
            "/^#/d; s|a|b|2",
            "s/[/]/X/",
            "s/[[:alpha:]/]/X/;s/x/[/",
            "$!N; /re/I,+3 { s/\\(a\\)\\/b/\\1/p; }",
            ":a;N;$!ba;s/\\n/ /g",
            "y/abc/xyz/",
            "a foo; w /etc/x",
            "1i\\\nheader w /etc/x",
            "0~3 d",
            "r /etc/hosts",
        ] {
            let e = effects(script);
            assert!(e.is_empty(), "{script:?} gave {e:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever the script, the scanner ends without panicking and stops at the first
        /// point it cannot follow.
        #[test]
        fn any_script_is_scanned_to_its_end(script in "[ -~\n\t]{0,64}|\\PC{0,32}") {
            let e = effects(&script);
            proptest::prop_assert!(
                !e[..e.len().saturating_sub(1)].contains(&Effect::Unclear),
                "{script:?} gave {e:?}"
            );
        }
    }

    #[test]
    fn writes_runs_and_unclear_scripts_are_reported() {
        assert_eq!(effects("w /etc/passwd"), [Effect::Writes("/etc/passwd")]);
        assert_eq!(effects("s/a/b/w out.txt"), [Effect::Writes("out.txt")]);
        assert_eq!(effects("1e curl x"), [Effect::Runs("curl x")]);
        assert_eq!(effects("s/.*/id/e"), [Effect::RunsInput]);
        assert_eq!(effects("$ e"), [Effect::RunsInput]);
        assert_eq!(effects("s/a/b/ge;p"), [Effect::RunsInput]);
        assert_eq!(effects("/x/{W log\n}"), [Effect::Writes("log")]);
        assert_eq!(effects("s/a[/b/"), [Effect::Unclear]);
        assert_eq!(effects("s/a/b/X"), [Effect::Unclear]);
        assert_eq!(effects("k"), [Effect::Unclear]);
        assert_eq!(effects("1,"), [Effect::Unclear]);
    }
}
