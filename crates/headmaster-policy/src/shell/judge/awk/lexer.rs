//! The tokens of an awk program: strings, regular expressions, numbers, names, operators and
//! newlines, with comments and line continuations skipped.
//!
//! Whether `/` starts a regular expression or divides depends on what came before, as in
//! awk's own lexers: after an operand (a name, a number, a string, `)`, `]`) it divides,
//! elsewhere it starts a regex. The one exception awk's grammar makes is tracked too: after
//! the condition of `if`, `while`, `for` or `switch` a statement starts, so a regex may follow
//! the `)`. Without it `if (x) /"/; system("curl x")` would read the quote inside the regex
//! as the start of a string that hides the `system` call.

/// One token of an awk program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok<'s> {
    End,
    Unclear,
    Newline,
    /// A string literal's source text between the quotes.
    Str(&'s str),
    Regex,
    Number,
    Name(&'s str),
    Op(&'s str),
    At,
}

/// Keywords after which an operand (and so a regex) comes next.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "BEGIN", "BEGINFILE", "END", "ENDFILE", "break", "case", "continue", "default", "delete", "do",
    "else", "exit", "for", "func", "function", "if", "in", "next", "nextfile", "print", "printf",
    "return", "switch", "while",
];

/// The deepest parenthesis nesting the lexer tracks; deeper programs are unclear.
const MAX_PARENS: u32 = 63;

/// A cursor over an awk program. It is `Copy`, so looking ahead is copying it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lexer<'s> {
    b: &'s [u8],
    text: &'s str,
    i: usize,
    /// The last token ended an operand, so `/` divides instead of starting a regex.
    operand: bool,
    /// How many parentheses are open.
    pub(super) depth: u32,
    /// Bit `n` is set when the parenthesis at depth `n` holds the condition of `if`,
    /// `while`, `for` or `switch`: after it a statement starts, so `/` starts a regex.
    control: u64,
}

impl<'s> Lexer<'s> {
    pub(super) fn new(program: &'s str) -> Self {
        Lexer {
            b: program.as_bytes(),
            text: program,
            i: 0,
            operand: false,
            depth: 0,
            control: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The next token; `Tok::End` at the end and `Tok::Unclear` where it cannot follow.
    pub(super) fn next(&mut self) -> Tok<'s> {
        let was_control = self.last_was_control();
        let tok = self.token();
        self.operand = match tok {
            Tok::Str(_) | Tok::Regex | Tok::Number | Tok::Op("]" | "++" | "--") => true,
            Tok::Name(n) => !KEYWORDS.contains(&n),
            Tok::Op(")") => !was_control,
            _ => false,
        };
        tok
    }

    /// True when the next `)` closes a control condition (read before it is consumed).
    fn last_was_control(&self) -> bool {
        self.depth > 0 && self.control & (1 << (self.depth - 1)) != 0
    }

    fn token(&mut self) -> Tok<'s> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.i += 1,
                Some(b'\\') if self.b.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                Some(b'#') => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
        let Some(c) = self.peek() else {
            return Tok::End;
        };
        let start = self.i;
        match c {
            b'\n' => {
                self.i += 1;
                Tok::Newline
            }
            b'"' => self.string(),
            b'/' if !self.operand => self.regex(),
            b'@' => {
                self.i += 1;
                Tok::At
            }
            b'0'..=b'9' | b'.'
                if c != b'.' || self.b.get(self.i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.')
                {
                    self.i += 1;
                }
                Tok::Number
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.i += 1;
                }
                let name = &self.text[start..self.i];
                if matches!(name, "if" | "while" | "for" | "switch") {
                    self.open_control_next();
                }
                Tok::Name(name)
            }
            b'(' => {
                if self.depth >= MAX_PARENS {
                    return Tok::Unclear;
                }
                self.i += 1;
                self.depth += 1;
                Tok::Op("(")
            }
            b')' => {
                if self.depth == 0 {
                    return Tok::Unclear;
                }
                self.i += 1;
                self.depth -= 1;
                self.control &= !(1 << self.depth);
                Tok::Op(")")
            }
            _ => self.operator(),
        }
    }

    /// Marks the parenthesis that follows `if`, `while`, `for` or `switch` as a condition.
    fn open_control_next(&mut self) {
        let mut j = self.i;
        while matches!(self.b.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if self.b.get(j) == Some(&b'(') && self.depth < MAX_PARENS {
            self.control |= 1 << self.depth;
        }
    }

    fn operator(&mut self) -> Tok<'s> {
        const OPS: &[&str] = &[
            "**=", "|&", "||", "&&", ">>", ">=", "<=", "==", "!=", "!~", "++", "--", "+=", "-=",
            "*=", "/=", "%=", "^=", "**", "|", ">", "<", "{", "}", "[", "]", ";", ",", "+", "-",
            "*", "/", "%", "^", "!", "~", "?", ":", "=", "$",
        ];
        let rest = &self.b[self.i..];
        match OPS.iter().find(|op| rest.starts_with(op.as_bytes())) {
            Some(op) => {
                self.i += op.len();
                Tok::Op(op)
            }
            None => Tok::Unclear,
        }
    }

    /// A string literal; the cursor is on the opening quote.
    fn string(&mut self) -> Tok<'s> {
        let start = self.i + 1;
        self.i = start;
        loop {
            match self.peek() {
                None | Some(b'\n') => return Tok::Unclear,
                Some(b'"') => {
                    self.i += 1;
                    return Tok::Str(&self.text[start..self.i - 1]);
                }
                Some(b'\\') => {
                    if self.b.get(self.i + 1).is_none() {
                        return Tok::Unclear;
                    }
                    self.i += 2;
                    // Keep the cursor on a character boundary after an escaped multibyte
                    // character.
                    while !self.text.is_char_boundary(self.i) {
                        self.i += 1;
                    }
                }
                Some(_) => self.i += 1,
            }
        }
    }

    /// A regex literal; the cursor is on the opening slash. A `/` inside a bracket
    /// expression ends the regex for some awks and not for others, so it is unclear.
    fn regex(&mut self) -> Tok<'s> {
        self.i += 1;
        let mut bracket = false;
        loop {
            let Some(b) = self.peek() else {
                return Tok::Unclear;
            };
            self.i += 1;
            match b {
                b'\n' => return Tok::Unclear,
                b'\\' => {
                    if self.peek().is_none_or(|b| b == b'\n') {
                        return Tok::Unclear;
                    }
                    self.i += 1;
                }
                b'/' if bracket => return Tok::Unclear,
                b'/' => return Tok::Regex,
                b'[' if !bracket => {
                    bracket = true;
                    if self.peek() == Some(b'^') {
                        self.i += 1;
                    }
                    if self.peek() == Some(b']') {
                        self.i += 1;
                    }
                }
                b'[' if matches!(self.peek(), Some(b':' | b'.' | b'=')) => {
                    let close = [self.b[self.i], b']'];
                    match self.b[self.i..].windows(2).position(|w| w == close) {
                        Some(end) => self.i += end + 2,
                        None => return Tok::Unclear,
                    }
                }
                b']' if bracket => bracket = false,
                _ => {}
            }
        }
    }
}
