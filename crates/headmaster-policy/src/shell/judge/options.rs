//! Reading a command's arguments the way GNU `getopt_long` does: clusters of short options
//! (`-rf`, `-n5`), long options with attached or separate values (`--output=f`, `--output f`)
//! and their unambiguous abbreviations (`--outp`), permuted operands, and `--`.
//!
//! Each program says which of its options take a value; everything else is a flag. A word
//! computed at run time where an option could stand is reported as such, because it could be
//! any option at all; so is an unquoted pattern whose matches may begin with `-` (wildcard
//! injection: `tar cf x.tar *` beside a file named `--checkpoint-action=exec=sh x`).

use super::place::{place_of, Place};
use super::{Finding, Why};
use crate::shell::Word;
use crate::tier::Tier;

/// Which options of a program take a value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// Short options that take a value, attached (`-n5`) or as the next word (`-n 5`).
    pub(crate) short: &'static str,
    /// Short options whose value can only be attached (`sed -i.bak`).
    pub(crate) short_attached: &'static str,
    /// Long options (without `--`) that take a value, attached or as the next word.
    pub(crate) long: &'static [&'static str],
}

impl Spec {
    /// A program whose options are all flags.
    pub(crate) const FLAGS: Spec = Spec {
        short: "",
        short_attached: "",
        long: &[],
    };
}

/// An option's value: attached text (always literal, since a computed word is never split)
/// or the next word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Val<'a> {
    pub(crate) text: &'a str,
    pub(crate) literal: bool,
}

impl Val<'_> {
    /// Where the value points, read as a path.
    pub(crate) fn place(&self) -> Place {
        if self.literal {
            place_of(self.text)
        } else {
            Place::Computed
        }
    }
}

/// One element of an argument list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// One letter of a short-option cluster, with its value if it takes one.
    Short(char, Option<Val<'a>>),
    /// A long option's name (as written, possibly abbreviated) and its value if any.
    Long(&'a str, Option<Val<'a>>),
    /// An operand.
    Operand(&'a Word),
    /// A word computed at run time, or a pattern whose matches may begin with `-`: an option
    /// or an operand, nobody knows which.
    Computed(&'a Word),
}

/// The finding about a word that may be any option at run time.
pub(crate) fn unseen<'c>(program: &'c str, word: &'c Word) -> Finding<'c> {
    Finding::new(
        Tier::High,
        program,
        Why::Names(
            "has the argument",
            &word.text,
            ", which may turn into any option at run time",
        ),
    )
}

/// Calls `f` with every item of `args`, read according to `spec`.
pub(crate) fn walk<'a>(args: &'a [Word], spec: &Spec, mut f: impl FnMut(Item<'a>)) {
    let mut i = 0;
    let mut operands_only = false;
    while let Some(word) = args.get(i) {
        i += 1;
        let t = word.text.as_str();
        if !word.literal || (!operands_only && word.may_be_option()) {
            f(Item::Computed(word));
            continue;
        }
        if operands_only || t == "-" || !t.starts_with('-') {
            f(Item::Operand(word));
            continue;
        }
        if t == "--" {
            operands_only = true;
            continue;
        }
        if let Some(long) = t.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => f(Item::Long(name, Some(attached(value)))),
                None if spec.long.iter().any(|l| l.starts_with(long)) => {
                    let value = args.get(i).map(next);
                    i += 1;
                    f(Item::Long(long, value));
                }
                None => f(Item::Long(long, None)),
            }
            continue;
        }
        for (at, c) in t.char_indices().skip(1) {
            let rest = &t[at + c.len_utf8()..];
            if spec.short_attached.contains(c) {
                f(Item::Short(c, (!rest.is_empty()).then(|| attached(rest))));
                break;
            }
            if spec.short.contains(c) {
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).map(next)
                } else {
                    Some(attached(rest))
                };
                f(Item::Short(c, value));
                break;
            }
            f(Item::Short(c, None));
        }
    }
}

fn attached(text: &str) -> Val<'_> {
    Val {
        text,
        literal: true,
    }
}

fn next(word: &Word) -> Val<'_> {
    Val {
        text: &word.text,
        literal: word.literal,
    }
}

/// True when `written` (a long option's name as given, without `--`) can stand for `name`:
/// equal to it or an abbreviation of it. Abbreviations that could also mean another option
/// make the program fail, so reading them as `name` errs on the strict side.
pub(crate) fn long_is(written: &str, name: &str) -> bool {
    !written.is_empty() && name.starts_with(written)
}

/// True when the arguments only ask for a version or help text.
pub(crate) fn asks_only_for_info(args: &[Word]) -> bool {
    !args.is_empty()
        && args
            .iter()
            .all(|a| a.literal && matches!(a.text.as_str(), "--version" | "--help" | "-h" | "-V"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Word> {
        line.split(' ')
            .map(|t| Word {
                text: t.to_owned(),
                literal: !t.starts_with('$'),
                glob: t.contains('*'),
            })
            .collect()
    }

    fn shown(v: Option<Val<'_>>) -> String {
        v.map(|v| format!("={}", v.text)).unwrap_or_default()
    }

    fn items(line: &str, spec: &Spec) -> Vec<String> {
        let args = words(line);
        let mut out = Vec::new();
        walk(&args, spec, |item| {
            out.push(match item {
                Item::Short(c, v) => format!("-{c}{}", shown(v)),
                Item::Long(n, v) => format!("--{n}{}", shown(v)),
                Item::Operand(w) => w.text.clone(),
                Item::Computed(w) => format!("?{}", w.text),
            });
        });
        out
    }

    #[test]
    fn clusters_values_and_operands_are_told_apart() {
        let spec = Spec {
            short: "ot",
            short_attached: "i",
            long: &["output", "target-directory"],
        };
        assert_eq!(
            items("-rf a -tdir -o out --outp x --output=y b", &spec),
            [
                "-r",
                "-f",
                "a",
                "-t=dir",
                "-o=out",
                "--outp=x",
                "--output=y",
                "b"
            ]
        );
        assert_eq!(
            items("-ni.bak -- -x $F", &spec),
            ["-n", "-i=.bak", "-x", "?$F"]
        );
        assert_eq!(items("a* *.rs -- *", &spec), ["a*", "?*.rs", "*"]);
        assert_eq!(items("-o", &spec), ["-o"]);
        assert!(long_is("to-c", "to-command") && !long_is("", "to-command"));
        assert!(asks_only_for_info(&words("--version")));
        assert!(!asks_only_for_info(&words("--version x.py")));
    }
}
