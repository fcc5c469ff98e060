//! Shell builtins the judgement reads: `cd` and `pushd`, which move every relative path after
//! them, `command`, and those that assign or evaluate (`export`, `declare`, `read`, `let`,
//! `test`, …).

use super::environ;
use super::options::{walk, Item, Spec};
use super::{Call, Finding, Why};
use crate::tier::Tier;

/// `cd` and `pushd`: moving out of the workspace (or into `.git`) makes every relative path
/// after it point somewhere the judgement cannot follow.
pub(crate) fn cd<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut dest = None;
    walk(c.args, &Spec::FLAGS, |item| {
        if let Item::Operand(w) | Item::Computed(w) = item {
            dest.get_or_insert(w);
        }
    });
    match dest {
        None if name == "pushd" => Finding::low(name, "swaps folders already visited"),
        None => Finding::says(
            Tier::High,
            name,
            "moves to the home folder, outside the workspace, so the paths after it cannot be judged",
        ),
        Some(w) if w.text == "-" => Finding::says(
            Tier::High,
            name,
            "moves back to a folder the engine cannot see",
        ),
        Some(w) => {
            let found = Finding::write(name, "moves to", w);
            if found.tier == Tier::Low {
                Finding::low(name, "moves inside the workspace")
            } else {
                found
            }
        }
    }
}

/// Builtins that may evaluate an argument as arithmetic or an array subscript
/// (`test -v 'a[$(id)]'`, `let`, `read`, `unset`, `printf -v`): bash runs a command
/// substitution written inside such a word even when it was quoted. Those that assign judge
/// the variables they set (`export GIT_PAGER=…`, `read GIT_PAGER`).
pub(crate) fn evaluates<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let assigns = matches!(
        name,
        "declare" | "export" | "local" | "readonly" | "typeset"
    );
    let reads = matches!(
        name,
        "getopts" | "mapfile" | "printf" | "read" | "readarray"
    );
    let mut worst = match name {
        "printf" => Finding::low(name, "prints text"),
        "test" | "[" | "[[" => Finding::low(name, "tests a condition"),
        _ => Finding::low(name, "a shell builtin"),
    };
    for a in c.args {
        if assigns {
            if let Some(found) = environ::assignment(c, a) {
                worst = worst.or(found);
            }
        }
        if reads && a.literal && environ::matters(&a.text) {
            worst = worst.or(Finding::new(
                Tier::High,
                name,
                Why::Names(
                    "sets",
                    &a.text,
                    " from its input, a value the engine cannot see",
                ),
            ));
        }
        if a.literal && (a.text.contains("$(") || a.text.contains('`')) {
            return Finding::new(
                Tier::Critical,
                name,
                Why::Names(
                    "may run the command substitution in",
                    &a.text,
                    " when bash evaluates it as arithmetic or a subscript",
                ),
            );
        }
        if matches!(name, "mapfile" | "readarray") && a.literal && a.text.starts_with("-C") {
            worst = worst.or(Finding::says(Tier::High, name, "runs a callback command"));
        }
    }
    worst
}

/// `command NAME…` starts NAME (the parser surfaces it); `command -v` and `-V` only say what
/// the name is.
pub(crate) fn command<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let describes = c
        .args
        .iter()
        .take_while(|a| a.literal && a.text.starts_with('-') && a.text != "--")
        .any(|a| a.text.contains(['v', 'V']));
    if describes {
        Finding::low(c.name, "says what a name is")
    } else {
        Finding::low(c.name, "starts the command it is given")
    }
}
