//! A small `*`-glob matcher, compiled once and matched without allocating.
//!
//! Policies only need one wildcard: `*` matches any run of characters, `/` included (the way
//! Cedar's `like` works, so the benchmark can compare like with like). `\*` is a literal star.
//! A hand-written matcher over precomputed literal segments is several times faster than a
//! regex for patterns this simple, and it keeps the crate free of heavy dependencies.

/// A compiled `*`-pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    /// The literal pieces between stars. A pattern with no star has exactly one piece.
    pieces: Vec<String>,
    /// True when the pattern contains at least one unescaped star.
    wild: bool,
    /// Compare ASCII letters without regard to case (domains, hosts, HTTP methods).
    fold: bool,
}

impl Glob {
    /// Compiles `pattern`; `fold` makes the match ASCII case-insensitive.
    pub(crate) fn new(pattern: &str, fold: bool) -> Self {
        let mut pieces = vec![String::new()];
        let mut wild = false;
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(next) => push(&mut pieces, next),
                    None => push(&mut pieces, '\\'),
                },
                '*' => {
                    wild = true;
                    pieces.push(String::new());
                }
                other => push(&mut pieces, other),
            }
        }
        Glob { pieces, wild, fold }
    }

    /// True when `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let text = text.as_bytes();
        let first = self.pieces[0].as_bytes();
        if !self.wild {
            return eq(first, text, self.fold);
        }
        let last = self.pieces[self.pieces.len() - 1].as_bytes();
        if text.len() < first.len() + last.len()
            || !eq(first, &text[..first.len()], self.fold)
            || !eq(last, &text[text.len() - last.len()..], self.fold)
        {
            return false;
        }
        // Leftmost matching of each middle piece is optimal for star-only patterns: taking the
        // earliest occurrence leaves the most room for the pieces that follow.
        let mut rest = &text[first.len()..text.len() - last.len()];
        for piece in &self.pieces[1..self.pieces.len() - 1] {
            match find(rest, piece.as_bytes(), self.fold) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

fn push(pieces: &mut [String], c: char) {
    if let Some(last) = pieces.last_mut() {
        last.push(c);
    }
}

fn eq(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn find(haystack: &[u8], needle: &[u8], fold: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > haystack.len() {
        return None;
    }
    (0..=haystack.len() - needle.len()).find(|&i| eq(&haystack[i..i + needle.len()], needle, fold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_including_slashes() {
        let g = Glob::new("secrets/*", false);
        assert!(g.matches("secrets/a"));
        assert!(g.matches("secrets/a/b.key"));
        assert!(g.matches("secrets/"));
        assert!(!g.matches("secret/a"));
        assert!(!g.matches("x/secrets/a"));
    }

    #[test]
    fn middle_pieces_are_found_in_order_without_overlap() {
        let g = Glob::new("a*b*c", false);
        assert!(g.matches("abc"));
        assert!(g.matches("axxbyyc"));
        assert!(!g.matches("acb"));
        assert!(!g.matches("ac"));
        let overlap = Glob::new("ab*ba", false);
        assert!(
            !overlap.matches("aba"),
            "prefix and suffix may not share the middle b"
        );
        assert!(overlap.matches("abba"));
    }

    #[test]
    fn folding_ignores_ascii_case_only_when_asked() {
        assert!(Glob::new("*.RU", true).matches("mail.ru"));
        assert!(!Glob::new("*.RU", false).matches("mail.ru"));
        assert!(Glob::new("post", true).matches("POST"));
    }

    #[test]
    fn escaped_star_is_literal() {
        let g = Glob::new(r"a\*b", false);
        assert!(g.matches("a*b"));
        assert!(!g.matches("axb"));
    }
}
