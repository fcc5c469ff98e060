//! A small scanner of Rust source for the gate test: finds the functions of `impl Instance`
//! blocks, whether they take a `Session`, and the first thing their body does with `self`.
//!
//! It blanks comments and literals first, so braces or `self.` inside strings cannot mislead
//! it; that is all the parsing the core's plain `impl` blocks need.

/// A function found in an `impl Instance` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub public: bool,
    pub takes_session: bool,
    /// The first `self.…` the body touches: a method name with `(`, or a field name.
    pub first_self_use: Option<String>,
}

/// Blanks comments and the contents of string and character literals (keeping byte offsets),
/// so braces and text inside them cannot confuse the scan.
fn strip_literals(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = bytes.to_vec();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(bytes.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < bytes.len() && depth > 0 {
                if bytes[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if bytes[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if bytes[i] == b'r'
            && (i == 0
                || !ident(bytes[i - 1])
                || (bytes[i - 1] == b'b' && (i < 2 || !ident(bytes[i - 2]))))
            && matches!(rest.get(1), Some(b'"') | Some(b'#'))
            && rest[1..].iter().find(|&&b| b != b'#') == Some(&b'"')
        {
            let hashes = rest[1..].iter().take_while(|&&b| b == b'#').count();
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = i + 2 + hashes;
            let end = bytes[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(bytes.len(), |p| body + p + close.len());
            blank(&mut out, body, end - close.len());
            i = end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i + 1, j);
            i = j + 1;
        } else if bytes[i] == b'\'' {
            // A character literal ('x', '\n', '\u{..}', 'é'), or else a lifetime.
            let literal_end = if rest.get(1) == Some(&b'\\') {
                rest[2..]
                    .iter()
                    .position(|&b| b == b'\'')
                    .map(|p| i + 2 + p)
            } else {
                source[i + 1..]
                    .chars()
                    .next()
                    .map(|c| i + 1 + c.len_utf8())
                    .filter(|&end| bytes.get(end) == Some(&b'\''))
            };
            match literal_end {
                Some(end) => {
                    blank(&mut out, i + 1, end);
                    i = end + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).expect("only ASCII bytes were blanked")
}

/// The offset just past the bracket matching the one at `open`.
fn matching(text: &[u8], open: usize) -> usize {
    let (o, c) = (text[open], if text[open] == b'{' { b'}' } else { b')' });
    let mut depth = 0;
    for (i, &b) in text.iter().enumerate().skip(open) {
        if b == o {
            depth += 1;
        } else if b == c {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
    }
    panic!("unbalanced brackets");
}

/// The functions of every `impl Instance` block in `source`.
pub fn instance_functions(source: &str) -> Vec<Function> {
    let clean = strip_literals(source);
    let text = clean.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = clean[from..].find("impl Instance") {
        let start = from + at;
        let after = &clean[start + "impl Instance".len()..];
        if !after.trim_start().starts_with('{') {
            from = start + 1;
            continue;
        }
        let open = start + "impl Instance".len() + after.find('{').unwrap();
        let close = matching(text, open);
        let mut depth = 0;
        let mut i = open + 1;
        while i < close - 1 {
            match text[i] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b'f' if depth == 0
                    && clean[i..].starts_with("fn ")
                    && (i == 0 || text[i - 1].is_ascii_whitespace()) =>
                {
                    let prefix = clean[..i].rsplit(['{', '}', ';']).next().unwrap_or("");
                    let public = prefix.split_whitespace().any(|w| w == "pub");
                    let name: String = clean[i + 3..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let params_open = i + clean[i..].find('(').unwrap();
                    let params_close = matching(text, params_open);
                    let params: String = clean[params_open..params_close]
                        .split_whitespace()
                        .collect();
                    let body_open = params_close + clean[params_close..].find(['{', ';']).unwrap();
                    let body_close = if text[body_open] == b'{' {
                        matching(text, body_open)
                    } else {
                        body_open
                    };
                    let body = &clean[body_open..body_close];
                    let first_self_use = first_self_use(body);
                    out.push(Function {
                        name,
                        public,
                        takes_session: params.contains(":&Session,")
                            || params.contains(":&Session)"),
                        first_self_use,
                    });
                    i = body_close;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        from = close;
    }
    out
}

/// The first member of `self` a body uses (`self.x`, `self\n    .x(`): `name(` for a method
/// call, `name` for a field.
fn first_self_use(body: &str) -> Option<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = body[from..].find("self") {
        let start = from + at;
        from = start + 4;
        if body[..start].chars().next_back().is_some_and(word) {
            continue;
        }
        let Some(rest) = body[from..].trim_start().strip_prefix('.') else {
            continue;
        };
        let rest = rest.trim_start();
        let member: String = rest.chars().take_while(|c| word(*c)).collect();
        if member.is_empty() {
            continue;
        }
        let call = rest[member.len()..].trim_start().starts_with('(');
        return Some(if call { format!("{member}(") } else { member });
    }
    None
}
