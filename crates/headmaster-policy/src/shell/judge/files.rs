//! File tools judged by where they write: `tee`, `cp`, `install`, `mv`, `ln`, `rm`, `touch`,
//! `mkdir`, `rmdir`, `truncate`, `chmod`.
//!
//! Writing, creating, moving and linking inside the workspace is low (deleting is medium);
//! anywhere else, through `.git`, or to a path known only at run time is high. A word that may
//! be any option at run time (an expansion, or a pattern such as `*`) is high for programs
//! with an option that writes elsewhere (`cp -t ..`, `mv -t ..`, `rm *` beside a file named
//! `-rf`); for the others it is judged as the path it names.

use super::options::{long_is, unseen, walk, Item, Spec, Val};
use super::{Call, Finding, Why};
use crate::tier::Tier;

const INSIDE: &str = "writes inside the workspace";

/// A finding about writing to an option's value.
fn write_val<'c>(program: &'c str, verb: &'static str, v: Val<'c>) -> Finding<'c> {
    let at = v.place();
    Finding::new(at.write_tier(), program, Why::Path(verb, v.text, at))
}

/// `tee FILE…`: every operand is written.
pub(crate) fn tee<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::low(name, INSIDE);
    walk(c.args, &Spec::FLAGS, |item| {
        if let Item::Operand(w) | Item::Computed(w) = item {
            worst = worst.or(Finding::write(name, "writes to", w));
        }
    });
    worst
}

const COPY: Spec = Spec {
    short: "tSmog",
    short_attached: "",
    long: &[
        "target-directory",
        "suffix",
        "mode",
        "owner",
        "group",
        "strip-program",
    ],
};

/// `cp` and `install`: the destination is written; with `-s`/`-l` every operand becomes a
/// link, judged like `ln`. A word that may be an option at run time could be `-t ..`, so it
/// is high. Two passes over the arguments, so nothing is collected.
pub(crate) fn copy<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::low(name, INSIDE);
    let mut links = false;
    let mut target = false;
    let mut operands = 0;
    walk(c.args, &COPY, |item| match item {
        Item::Short('t', Some(v)) => {
            target = true;
            worst = worst.or(write_val(name, "copies into", v));
        }
        Item::Long(n, Some(v)) if long_is(n, "target-directory") => {
            target = true;
            worst = worst.or(write_val(name, "copies into", v));
        }
        Item::Long(n, _) if long_is(n, "strip-program") => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "runs the strip program it is given",
            ));
        }
        Item::Short('s' | 'l', _) => links = true,
        Item::Long(n, _) if long_is(n, "symbolic-link") || n == "link" => links = true,
        Item::Operand(_) => operands += 1,
        Item::Computed(w) => {
            operands += 1;
            worst = worst.or(unseen(name, w));
        }
        _ => {}
    });
    let mut seen = 0;
    walk(c.args, &COPY, |item| {
        if let Item::Operand(w) | Item::Computed(w) = item {
            seen += 1;
            if !target && seen == operands {
                worst = worst.or(Finding::write(name, "copies to", w));
            } else if links {
                worst = worst.or(Finding::write(name, "links", w));
            }
        }
    });
    worst
}

const MOVE: Spec = Spec {
    short: "tS",
    short_attached: "",
    long: &["target-directory", "suffix"],
};

/// `mv` and `ln`: every operand is moved away or becomes part of a link, so all must stay
/// inside (a link to `/etc` would make later workspace paths lead outside). A word that may
/// be an option could be `-t ..`.
pub(crate) fn relocate<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let verb = if name == "ln" { "links" } else { "moves" };
    let mut worst = Finding::low(name, INSIDE);
    walk(c.args, &MOVE, |item| match item {
        Item::Short('t', Some(v)) => worst = worst.or(write_val(name, verb, v)),
        Item::Long(n, Some(v)) if long_is(n, "target-directory") => {
            worst = worst.or(write_val(name, verb, v));
        }
        Item::Operand(w) => worst = worst.or(Finding::write(name, verb, w)),
        Item::Computed(w) => worst = worst.or(unseen(name, w)),
        _ => {}
    });
    worst
}

/// `rm`: recursive or forced deletion is critical (as the default rule says), deleting inside
/// the workspace medium. A word that may be an option at run time (`rm *` beside a file named
/// `-rf`) is high.
pub(crate) fn remove<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::says(Tier::Medium, name, "deletes files inside the workspace");
    walk(c.args, &Spec::FLAGS, |item| match item {
        Item::Short('r' | 'R' | 'f', _) => {
            worst = worst.or(Finding::says(
                Tier::Critical,
                name,
                "recursive or forced deletion",
            ));
        }
        Item::Long(n, _)
            if long_is(n, "recursive") || long_is(n, "force") || n == "no-preserve-root" =>
        {
            worst = worst.or(Finding::says(
                Tier::Critical,
                name,
                "recursive or forced deletion",
            ));
        }
        Item::Operand(w) => worst = worst.or(Finding::write(name, "deletes", w)),
        Item::Computed(w) => worst = worst.or(unseen(name, w)),
        _ => {}
    });
    worst
}

/// `touch`, `mkdir`, `rmdir`, `truncate`, `chmod`: every operand is changed. A `chmod` mode
/// is an operand too, harmlessly: it never holds a `/`, so it is always "inside".
pub(crate) fn create<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let (spec, verb) = match name {
        "touch" => (
            Spec {
                short: "drt",
                short_attached: "",
                long: &["date", "reference", "time"],
            },
            "touches",
        ),
        "mkdir" => (
            Spec {
                short: "m",
                short_attached: "",
                long: &["mode"],
            },
            "creates",
        ),
        "truncate" => (
            Spec {
                short: "sr",
                short_attached: "",
                long: &["size", "reference"],
            },
            "truncates",
        ),
        "chmod" => (Spec::FLAGS, "changes the mode of"),
        _ => (Spec::FLAGS, "removes"),
    };
    let mut worst = Finding::low(name, INSIDE);
    walk(c.args, &spec, |item| {
        if let Item::Operand(w) | Item::Computed(w) = item {
            worst = worst.or(Finding::write(name, verb, w));
        }
    });
    worst
}
