//! The [`Scrubber`]: replaces every secret value used in one call with `[credential:NAME]`.
//!
//! Each value is matched verbatim and in its `application/x-www-form-urlencoded` form, because
//! that is how a value substituted into a URL query travels (and how a server or an HTTP error
//! quotes the URL back). Transformed forms a server might invent (base64, reversed, split) cannot
//! be recognised; that is why credentials only go to hosts an Admin allowlisted.

use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use super::SecretValue;

/// Replaces the secret values of one call in outputs and error text. Holds copies of the
/// values, zeroized on drop; not `Clone`; `Debug` shows only the names.
#[derive(Default)]
pub struct Scrubber {
    /// Longest first, so a secret that contains another is replaced whole.
    patterns: Vec<Pattern>,
}

struct Pattern {
    bytes: Zeroizing<Vec<u8>>,
    marker: String,
}

impl Scrubber {
    /// A scrubber that knows no secrets (and changes nothing).
    pub fn new() -> Self {
        Scrubber::default()
    }

    /// Whether no secret has been registered.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Learns a secret value: from now on it (and its URL-encoded form) is replaced by
    /// `[credential:NAME]`. Empty values are ignored: they would match everywhere.
    pub fn register(&mut self, name: &str, value: &SecretValue) {
        let verbatim = value.expose_secret();
        if verbatim.is_empty() {
            return;
        }
        let encoded: Zeroizing<String> =
            Zeroizing::new(url::form_urlencoded::byte_serialize(verbatim.as_bytes()).collect());
        for form in [verbatim, encoded.as_str()] {
            if self
                .patterns
                .iter()
                .any(|p| p.bytes.as_slice() == form.as_bytes())
            {
                continue;
            }
            self.patterns.push(Pattern {
                bytes: Zeroizing::new(form.as_bytes().to_vec()),
                marker: format!("[credential:{name}]"),
            });
        }
        self.patterns
            .sort_by_key(|pattern| std::cmp::Reverse(pattern.bytes.len()));
    }

    /// `bytes` with every occurrence of every registered value replaced.
    pub fn scrub_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        if self.patterns.is_empty() {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            match self.patterns.iter().find(|p| rest.starts_with(&p.bytes)) {
                Some(pattern) => {
                    out.extend_from_slice(pattern.marker.as_bytes());
                    i += pattern.bytes.len();
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        out
    }

    /// `text` with every occurrence of every registered value replaced.
    pub fn scrub_str(&self, text: &str) -> String {
        if self.patterns.is_empty() {
            return text.to_owned();
        }
        // Every pattern is valid UTF-8 and therefore starts and ends on a character boundary of
        // any valid UTF-8 text it matches in, so the result stays valid UTF-8.
        String::from_utf8_lossy(&self.scrub_bytes(text.as_bytes())).into_owned()
    }

    /// Scrubs every string and object key inside `value`.
    pub fn scrub_json(&self, value: &mut Value) {
        if self.patterns.is_empty() {
            return;
        }
        match value {
            Value::String(text) => *text = self.scrub_str(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.scrub_json(item)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.scrub_json(&mut item);
                    map.insert(self.scrub_str(&key), item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// For output cut at a size limit: removes a trailing beginning of a secret, so a value that
    /// straddled the cut does not leak its first characters. Scrub before trimming.
    pub fn trim_partial_suffix(&self, bytes: &mut Vec<u8>) {
        loop {
            let cut = self
                .patterns
                .iter()
                .filter_map(|p| longest_prefix_at_end(bytes, &p.bytes))
                .max();
            match cut {
                Some(len) if len > 0 => bytes.truncate(bytes.len() - len),
                _ => return,
            }
        }
    }
}

/// The length of the longest proper prefix of `pattern` that `bytes` ends with, if any.
fn longest_prefix_at_end(bytes: &[u8], pattern: &[u8]) -> Option<usize> {
    (1..pattern.len())
        .rev()
        .find(|&len| bytes.ends_with(&pattern[..len]))
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.patterns.iter().map(|p| &p.marker))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scrubber(pairs: &[(&str, &str)]) -> Scrubber {
        let mut scrubber = Scrubber::new();
        for (name, value) in pairs {
            scrubber.register(name, &SecretValue::new((*value).to_owned()));
        }
        scrubber
    }

    #[test]
    fn replaces_verbatim_and_url_encoded_forms() {
        let s = scrubber(&[("K", "a b&c")]);
        assert_eq!(
            s.scrub_str("x=a b&c y=a+b%26c"),
            "x=[credential:K] y=[credential:K]"
        );
    }

    #[test]
    fn longer_secret_wins_over_a_contained_one() {
        let s = scrubber(&[("SHORT", "abc"), ("LONG", "xxabcxx")]);
        assert_eq!(
            s.scrub_str("xxabcxx abc"),
            "[credential:LONG] [credential:SHORT]"
        );
    }

    #[test]
    fn scrubs_json_strings_and_keys() {
        let s = scrubber(&[("T", "tok123")]);
        let mut value = json!({"tok123": ["Bearer tok123", 1], "k": "plain"});
        s.scrub_json(&mut value);
        assert_eq!(
            value,
            json!({"[credential:T]": ["Bearer [credential:T]", 1], "k": "plain"})
        );
    }

    #[test]
    fn trims_a_secret_cut_at_the_end_of_truncated_output() {
        let s = scrubber(&[("T", "secretvalue")]);
        let mut bytes = b"body: secretvalue and then secr".to_vec();
        bytes = s.scrub_bytes(&bytes);
        s.trim_partial_suffix(&mut bytes);
        assert_eq!(bytes, b"body: [credential:T] and then ".to_vec());
    }

    #[test]
    fn debug_shows_names_only_and_empty_values_are_ignored() {
        let s = scrubber(&[("T", "hidden-value"), ("E", "")]);
        let printed = format!("{s:?}");
        assert!(!printed.contains("hidden-value"), "{printed}");
        assert!(printed.contains("[credential:T]"), "{printed}");
        assert!(!printed.contains("[credential:E]"), "{printed}");
        assert_eq!(s.scrub_str("unchanged"), "unchanged");
    }
}
