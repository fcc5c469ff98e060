//! Text and inspection tools that are read-only except for an option that writes a file,
//! runs a program or changes the system: `sort`, `uniq`, `xxd`, `split`, `csplit`, `shuf`,
//! `iconv`, `tree`, `file`, `date`, `hostname`, `rg` and `fd`.

use super::options::{long_is, unseen, walk, Item, Spec, Val};
use super::{Call, Finding, Why};
use crate::tier::Tier;

const INSIDE: &str = "writes inside the workspace";

/// A finding about writing to an option's value.
fn write_val<'c>(program: &'c str, verb: &'static str, v: Val<'c>) -> Finding<'c> {
    let at = v.place();
    Finding::new(at.write_tier(), program, Why::Path(verb, v.text, at))
}

#[rustfmt::skip]
const SORT: Spec = Spec {
    short: "kotTS",
    short_attached: "",
    long: &[
        "key", "output", "field-separator", "temporary-directory", "buffer-size", "files0-from",
        "parallel", "batch-size", "random-source", "compress-program", "sort",
    ],
};

/// `sort`: `-o` writes, `-T` keeps temporary files, `--compress-program` runs a program, and
/// a word that may be an option at run time may be any of them.
pub(crate) fn sort<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::low(name, READS);
    walk(c.args, &SORT, |item| match item {
        Item::Short('o', Some(v)) => worst = worst.or(write_val(name, "writes to", v)),
        Item::Short('T', Some(v)) => worst = worst.or(write_val(name, "keeps files in", v)),
        Item::Long(n, Some(v)) if long_is(n, "output") => {
            worst = worst.or(write_val(name, "writes to", v));
        }
        Item::Long(n, Some(v)) if long_is(n, "temporary-directory") => {
            worst = worst.or(write_val(name, "keeps files in", v));
        }
        Item::Long(n, _) if long_is(n, "compress-program") => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "runs the compression program it is given",
            ));
        }
        Item::Computed(w) => worst = worst.or(unseen(name, w)),
        _ => {}
    });
    worst
}

const READS: &str = "read-only";

/// `uniq IN OUT` and `xxd IN OUT`: the second operand is written.
pub(crate) fn second_operand<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = if name == "uniq" {
        Spec {
            short: "fsw",
            short_attached: "",
            long: &["skip-fields", "skip-chars", "check-chars"],
        }
    } else {
        Spec {
            short: "cglnos",
            short_attached: "",
            long: &[],
        }
    };
    let mut worst = Finding::low(name, READS);
    let mut operands = 0;
    walk(c.args, &spec, |item| match item {
        Item::Operand(w) | Item::Computed(w) => {
            operands += 1;
            if operands >= 2 || !w.literal {
                worst = worst.or(Finding::write(name, "writes to", w));
            }
        }
        _ => {}
    });
    worst
}

/// `split IN PREFIX` and `csplit -f PREFIX`: the pieces are written beside the prefix;
/// `split --filter` runs a command through the shell, judged on its own.
pub(crate) fn split<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = Spec {
        short: "abClntf",
        short_attached: "",
        long: &[
            "suffix-length",
            "additional-suffix",
            "bytes",
            "line-bytes",
            "lines",
            "number",
            "separator",
            "filter",
            "prefix",
            "suffix-format",
            "digits",
        ],
    };
    let mut worst = Finding::low(name, INSIDE);
    let mut operands = 0;
    let mut filter = None;
    walk(c.args, &spec, |item| match item {
        Item::Short('f', Some(v)) if name == "csplit" => {
            worst = worst.or(write_val(name, "writes pieces to", v));
        }
        Item::Long(n, Some(v)) if long_is(n, "prefix") => {
            worst = worst.or(write_val(name, "writes pieces to", v));
        }
        Item::Long(n, v) if long_is(n, "filter") => filter = Some(v),
        Item::Operand(w) => {
            operands += 1;
            if operands == 2 && name == "split" {
                worst = worst.or(Finding::write(name, "writes pieces to", w));
            }
        }
        Item::Computed(w) => {
            operands += 1;
            worst = worst.or(unseen(name, w));
        }
        _ => {}
    });
    match filter {
        Some(Some(v)) if v.literal => {
            let tier = c.runs(v.text);
            worst.or(Finding::new(tier, name, Why::Runs(v.text)))
        }
        Some(_) => worst.or(Finding::says(
            Tier::High,
            name,
            "runs a filter command known only at run time",
        )),
        None => worst,
    }
}

/// `shuf -o`, `iconv -o`, `tree -o`: one option names the file written. Each program says
/// which of its options take a value, so that a flag (`tree -t`) never swallows `-o`.
pub(crate) fn output_option<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = match name {
        "shuf" => Spec {
            short: "ino",
            short_attached: "",
            long: &["input-range", "head-count", "output", "random-source"],
        },
        "iconv" => Spec {
            short: "fto",
            short_attached: "",
            long: &["from-code", "to-code", "output"],
        },
        _ => Spec {
            short: "LPIHTo",
            short_attached: "",
            long: &["charset", "filelimit", "timefmt", "sort", "output"],
        },
    };
    let mut worst = Finding::low(name, READS);
    walk(c.args, &spec, |item| match item {
        Item::Short('o', Some(v)) => worst = worst.or(write_val(name, "writes to", v)),
        Item::Long(n, Some(v)) if long_is(n, "output") => {
            worst = worst.or(write_val(name, "writes to", v));
        }
        Item::Computed(w) => worst = worst.or(unseen(name, w)),
        _ => {}
    });
    worst
}

/// `file`: read-only, except `-C`, which compiles a magic file next to its source.
pub(crate) fn file<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::low(name, READS);
    walk(c.args, &Spec::FLAGS, |item| {
        if let Item::Short('C', _) = item {
            worst = Finding::says(Tier::Medium, name, "compiles a magic file");
        }
    });
    worst
}

/// `date`: read-only unless it sets the clock.
pub(crate) fn date<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = Spec {
        short: "dfrs",
        short_attached: "I",
        long: &["date", "file", "reference", "set"],
    };
    let mut worst = Finding::low(name, PRINTS_TIME);
    walk(c.args, &spec, |item| match item {
        Item::Short('s', _) => worst = Finding::says(Tier::High, name, "sets the system clock"),
        Item::Long(n, _) if long_is(n, "set") => {
            worst = Finding::says(Tier::High, name, "sets the system clock");
        }
        _ => {}
    });
    worst
}

const PRINTS_TIME: &str = "prints the time";

/// `hostname`: prints the name, unless given one to set.
pub(crate) fn hostname<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::low(name, "prints the host name");
    walk(c.args, &Spec::FLAGS, |item| match item {
        Item::Operand(_) | Item::Computed(_) | Item::Short('F', _) => {
            worst = Finding::says(Tier::High, name, "renames the host");
        }
        Item::Long(n, _) if long_is(n, "file") => {
            worst = Finding::says(Tier::High, name, "renames the host");
        }
        _ => {}
    });
    worst
}

/// `rg --pre CMD` runs a preprocessor on every file; `fd -x/-X` runs a command on every
/// match. Neither is followed by the parser, so both are high; a computed word could be
/// either option.
pub(crate) fn searcher<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let runs = |t: &str| {
        if name == "rg" {
            t == "--pre" || t.starts_with("--pre=")
        } else {
            t.starts_with("--exec")
                || (t.starts_with('-') && !t.starts_with("--") && t.contains(['x', 'X']))
        }
    };
    for a in c.args {
        if a.literal && a.text == "--" {
            break;
        }
        if a.may_be_option() {
            return Finding::new(
                Tier::High,
                name,
                Why::Names(
                    "has the argument",
                    &a.text,
                    ", which may turn into an option that runs a program",
                ),
            );
        }
        if runs(&a.text) {
            return Finding::says(Tier::High, name, "runs a command on every file it finds");
        }
    }
    Finding::low(name, READS)
}
