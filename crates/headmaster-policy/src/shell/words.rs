//! Reading one word or redirection: quote removal, escapes, and the expansions inside words.
//!
//! Command substitutions are parsed by re-entering `list` on the same cursor, which handles
//! nesting and quoting inside them for free; backticks are unescaped first and parsed as a
//! line of their own. Parameter and arithmetic expansions are kept as opaque text and mark the
//! word as non-literal, unless they hide a substitution, which is refused.

use super::parser::{parse_into, Close, Parser, RawWord};
use super::{Origin, Redirect, RedirectOp, Unparseable, Word, MAX_DEPTH};

type Result<T> = std::result::Result<T, Unparseable>;

impl Parser<'_, '_> {
    pub(super) fn at_redirect(&self) -> bool {
        let digits = self.b[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        match self.peek_at(digits) {
            Some(b'<' | b'>') => !(digits == 0 && self.peek_at(1) == Some(b'(')),
            Some(b'&') => digits == 0 && self.peek_at(1) == Some(b'>'),
            _ => false,
        }
    }

    pub(super) fn redirect(&mut self) -> Result<Redirect> {
        let digits_start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let fd = if self.pos > digits_start {
            match self.text[digits_start..self.pos].parse::<u32>() {
                Ok(fd) => Some(fd),
                Err(_) => return Err(self.unexpected("descriptor number")),
            }
        } else {
            None
        };
        if self.starts("<<") {
            return Err(Unparseable::Unsupported("a here-document or here-string"));
        }
        let (op, len) = [
            ("&>>", RedirectOp::AppendBoth),
            ("&>", RedirectOp::WriteBoth),
            (">>", RedirectOp::Append),
            (">|", RedirectOp::Clobber),
            (">&", RedirectOp::Dup),
            ("<>", RedirectOp::ReadWrite),
            ("<&", RedirectOp::Dup),
            (">", RedirectOp::Write),
            ("<", RedirectOp::Read),
        ]
        .into_iter()
        .find(|(s, _)| self.starts(s))
        .map(|(s, op)| (op, s.len()))
        .ok_or_else(|| self.unexpected("redirection"))?;
        let dup_out = self.starts(">&");
        self.pos += len;
        self.skip_blanks();
        let substitution = self.starts("<(") || self.starts(">(");
        match self.peek() {
            None | Some(b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')')
                if !substitution =>
            {
                return Err(self.unexpected("redirection without a target"));
            }
            _ => {}
        }
        let target = self.word()?.word;
        let is_fd = target.literal
            && (target.text == "-"
                || (!target.text.is_empty() && target.text.bytes().all(|b| b.is_ascii_digit())));
        let op = match op {
            RedirectOp::Dup if is_fd => RedirectOp::Dup,
            // Bash reads `>&file` as `&>file`; `<&file` names no descriptor and is refused.
            RedirectOp::Dup if dup_out => RedirectOp::WriteBoth,
            RedirectOp::Dup => return Err(Unparseable::Unsupported("`<&` with a file name")),
            other => other,
        };
        Ok(Redirect { fd, op, target })
    }

    /// Reads one word, performing quote removal and parsing any substitutions it contains.
    pub(super) fn word(&mut self) -> Result<RawWord> {
        let start = self.pos;
        let mut w = RawWord {
            word: Word {
                text: String::new(),
                literal: true,
                glob: false,
            },
            quoted: false,
            glob: false,
            brace: false,
            start,
        };
        if self.starts("<(") || self.starts(">(") {
            self.pos += 2;
            self.substitution()?;
            w.word.text.push_str(&self.text[start..self.pos]);
            w.word.literal = false;
            return Ok(w);
        }
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => break,
                b'\\' => {
                    w.quoted = true;
                    self.escaped(&mut w.word.text);
                }
                b'\'' => {
                    w.quoted = true;
                    let open = self.pos;
                    let len = self.b[open + 1..]
                        .iter()
                        .position(|&b| b == b'\'')
                        .ok_or(Unparseable::UnbalancedQuote(open))?;
                    w.word.text.push_str(&self.text[open + 1..open + 1 + len]);
                    self.pos = open + len + 2;
                }
                b'"' => {
                    w.quoted = true;
                    self.double_quoted(&mut w.word)?;
                }
                b'$' => self.dollar(&mut w.word, false)?,
                b'`' => self.backtick(&mut w.word)?,
                b'*' | b'?' | b'[' | b'{' => {
                    if c == b'{' {
                        w.brace = true;
                    } else {
                        w.glob = true;
                    }
                    w.word.text.push(c as char);
                    self.pos += 1;
                }
                _ => {
                    let run = self.pos;
                    while self.peek().is_some_and(|b| !is_special(b)) {
                        self.pos += 1;
                    }
                    w.word.text.push_str(&self.text[run..self.pos]);
                }
            }
        }
        w.word.glob = w.glob;
        // `{a,b}` and `{1..3}` become several words at run time, so what the program gets is
        // not the text (`rm {-rf,x}` runs `rm -rf x`). Read conservatively: a quoted comma
        // counts too.
        if w.brace && brace_expands(&w.word.text) {
            w.word.literal = false;
        }
        Ok(w)
    }

    /// A backslash outside quotes: line continuation, or the next character taken literally.
    fn escaped(&mut self, text: &mut String) {
        match self.text[self.pos + 1..].chars().next() {
            Some('\n') => self.pos += 2,
            Some(c) => {
                text.push(c);
                self.pos += 1 + c.len_utf8();
            }
            None => {
                text.push('\\');
                self.pos += 1;
            }
        }
    }

    fn double_quoted(&mut self, w: &mut Word) -> Result<()> {
        let open = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(Unparseable::UnbalancedQuote(open)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => match self.peek_at(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(c @ (b'$' | b'`' | b'"' | b'\\')) => {
                        w.text.push(c as char);
                        self.pos += 2;
                    }
                    _ => {
                        w.text.push('\\');
                        self.pos += 1;
                    }
                },
                Some(b'$') => self.dollar(w, true)?,
                Some(b'`') => self.backtick(w)?,
                Some(_) => {
                    let run = self.pos;
                    while self
                        .peek()
                        .is_some_and(|b| !matches!(b, b'"' | b'\\' | b'$' | b'`'))
                    {
                        self.pos += 1;
                    }
                    w.text.push_str(&self.text[run..self.pos]);
                }
            }
        }
    }

    /// `$name`, `${…}`, `$(…)`, `$((…))`; anything else after `$` is a literal dollar.
    fn dollar(&mut self, w: &mut Word, in_quotes: bool) -> Result<()> {
        let start = self.pos;
        match self.peek_at(1) {
            // `$((` is arithmetic only when the inner parenthesis closes right before the outer
            // one (`$((1+2))`); bash reads `$((ls) )` as a command substitution of a subshell.
            Some(b'(') if self.peek_at(2) == Some(b'(') && self.arithmetic(start) => {
                let end = self.matching(start + 1, b'(', b')')?;
                self.arithmetic_substitutions(end - 1)?;
                self.pos = end + 1;
            }
            Some(b'(') => {
                self.pos += 2;
                self.substitution()?;
            }
            Some(b'{') => {
                let end = self.matching(start + 1, b'{', b'}')?;
                let inner = &self.text[start + 2..end];
                if inner.contains("$(") || inner.contains('`') {
                    return Err(Unparseable::Unsupported(
                        "a command substitution inside ${…}",
                    ));
                }
                self.pos = end + 1;
            }
            Some(c) if c.is_ascii_digit() => self.pos += 2,
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.pos += 1;
                }
            }
            Some(b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-') => self.pos += 2,
            Some(b'\'') if !in_quotes => {
                return Err(Unparseable::Unsupported("ANSI-C quoting `$'…'`"))
            }
            Some(b'"') if !in_quotes => {
                return Err(Unparseable::Unsupported("locale quoting `$\"…\"`"))
            }
            _ => {
                w.text.push('$');
                self.pos += 1;
                return Ok(());
            }
        }
        w.text.push_str(&self.text[start..self.pos]);
        w.literal = false;
        Ok(())
    }

    /// Bash runs the command substitutions inside `$((…))` before it evaluates the sum, so
    /// each one is parsed and judged like any other; the rest of the expression is opaque. The
    /// cursor is at `$((`, `close` is the inner closing parenthesis.
    fn arithmetic_substitutions(&mut self, close: usize) -> Result<()> {
        self.pos += 3;
        let mut scratch = Word {
            text: String::new(),
            literal: false,
            glob: false,
        };
        while self.pos < close {
            match self.peek() {
                Some(b'$') => self.dollar(&mut scratch, true)?,
                Some(b'`') => self.backtick(&mut scratch)?,
                Some(b'\\') => self.pos += 2,
                _ => self.pos += 1,
            }
        }
        if self.pos != close {
            // A substitution ran past the expression's end: the parentheses were not what
            // they seemed, and guessing would be unsafe.
            return Err(Unparseable::Unsupported(
                "a command substitution that crosses the end of $((…))",
            ));
        }
        Ok(())
    }

    fn arithmetic(&self, start: usize) -> bool {
        self.matching(start + 2, b'(', b')')
            .is_ok_and(|inner| self.b.get(inner + 1) == Some(&b')'))
    }

    /// The closing byte matching the opener at `open`, counting nesting; quotes are not
    /// tracked here because only `${…}` and `$((…))` use it and both refuse substitutions.
    fn matching(&self, open: usize, opener: u8, closer: u8) -> Result<usize> {
        let mut depth = 0usize;
        for (i, &b) in self.b.iter().enumerate().skip(open) {
            if b == opener {
                depth += 1;
            } else if b == closer {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
        }
        Err(Unparseable::UnbalancedParen(open))
    }

    /// The inside of `$(…)`, `<(…)` or `>(…)`, parsed in place; the cursor is after the `(`.
    fn substitution(&mut self) -> Result<()> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(Unparseable::TooDeep(MAX_DEPTH));
        }
        let saved = (self.depth, self.origin);
        self.depth += 1;
        self.origin = Origin::Substitution;
        let result = self.list(Close::Paren, false);
        (self.depth, self.origin) = saved;
        result
    }

    fn backtick(&mut self, w: &mut Word) -> Result<()> {
        let open = self.pos;
        self.pos += 1;
        let mut inner = String::new();
        loop {
            match self.peek() {
                None => return Err(Unparseable::UnbalancedQuote(open)),
                Some(b'`') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') if matches!(self.peek_at(1), Some(b'$' | b'`' | b'\\')) => {
                    inner.push(self.b[self.pos + 1] as char);
                    self.pos += 2;
                }
                Some(_) => {
                    let run = self.pos;
                    self.pos += 1;
                    while self.peek().is_some_and(|b| b != b'`' && b != b'\\') {
                        self.pos += 1;
                    }
                    inner.push_str(&self.text[run..self.pos]);
                }
            }
        }
        parse_into(&inner, self.depth + 1, Origin::Substitution, self.out)?;
        w.text.push_str(&self.text[open..self.pos]);
        w.literal = false;
        Ok(())
    }
}

/// True when a `{` in `text` is followed by a `,` or `..` and a `}`: a brace expansion.
fn brace_expands(text: &str) -> bool {
    text.find('{').is_some_and(|open| {
        let rest = &text[open + 1..];
        rest.contains('}') && (rest.contains(',') || rest.contains(".."))
    })
}

fn is_special(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t'
            | b'\n'
            | b';'
            | b'&'
            | b'|'
            | b'<'
            | b'>'
            | b'('
            | b')'
            | b'\\'
            | b'\''
            | b'"'
            | b'$'
            | b'`'
            | b'*'
            | b'?'
            | b'['
            | b'{'
    )
}
