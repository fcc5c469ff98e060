//! `awk`, judged by reading its program the way POSIX awk, gawk and mawk tokenise it.
//!
//! An awk program is text tooling except for a few constructs: `system(CMD)`, output pipes
//! (`print … | CMD`, gawk's `|&`) and input pipes (`CMD | getline`) run `CMD` through
//! `/bin/sh`; `print … > FILE` and `>> FILE` write a file; gawk's `/inet/…` special files
//! connect to the network; `@load` and `@include` bring in code, and `@name(…)` calls a
//! function (`system` included) whose name is only known at run time. A command or file
//! given as one string literal is judged like a command line or a path; one built at run
//! time is high. The scanner reads strings, regular expressions (telling `/` division from a
//! regex by what came before, as awk's own lexers do), comments and parentheses; whatever it
//! cannot follow is reported as unclear and judged high.
//!
//! Program files (`-f`), included libraries (`-i`), extensions (`-l`) and the debugger (`-D`)
//! are code the engine cannot read: high. gawk's `--sandbox` turns off everything above but
//! `@include`, so a gawk program run with it is only checked for that.

use super::options::{asks_only_for_info, long_is, walk, Item, Spec, Val};
use super::place::place_of;
use super::{Call, Finding, Why};
use crate::tier::Tier;
use lexer::{Lexer, Tok};
use std::borrow::Cow;

mod lexer;

/// What a program does beyond reading its input and printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect<'s> {
    /// Writes the file named by this string literal (its source text, escapes undecoded).
    Writes(&'s str),
    /// Runs the command line in this string literal.
    Runs(&'s str),
    /// Names a gawk network special file (`/inet/tcp/0/host/80`).
    Connects(&'s str),
    /// Does something with a name or command known only at run time; the phrase says what.
    Dynamic(&'static str),
    /// The scanner could not follow the program.
    Unclear,
}

const SPEC: Spec = Spec {
    short: "FvfeilEW",
    short_attached: "dDLop",
    long: &[
        "field-separator",
        "assign",
        "file",
        "source",
        "include",
        "load",
        "exec",
    ],
};

/// `-W` values (mawk, or gawk's spelling of long options) that change nothing judged here.
#[rustfmt::skip]
const HARMLESS_W: &[&str] = &[
    "version", "usage", "help", "interactive", "posix", "posix_space", "traditional", "lint",
    "re-interval",
];

pub(crate) fn judge<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    if asks_only_for_info(args) {
        return Finding::low(name, "prints its version or help");
    }
    let mut worst = Finding::low(name, "a program that was checked");
    let mut in_options = false;
    let mut sandbox = false;
    walk(args, &SPEC, |item| match item {
        Item::Short('e', _) => in_options = true,
        Item::Long(n, _) if long_is(n, "source") => in_options = true,
        Item::Short('f' | 'E', _) => {
            in_options = true;
            worst = worst.or(unread(name, FROM_FILE));
        }
        Item::Long(n, _) if long_is(n, "file") || long_is(n, "exec") => {
            in_options = true;
            worst = worst.or(unread(name, FROM_FILE));
        }
        Item::Short('i', _) => worst = worst.or(unread(name, LIBRARY)),
        Item::Long(n, _) if long_is(n, "include") => {
            worst = worst.or(unread(name, LIBRARY));
        }
        Item::Short('l', _) => worst = worst.or(unread(name, EXTENSION)),
        Item::Long(n, _) if long_is(n, "load") => {
            worst = worst.or(unread(name, EXTENSION));
        }
        Item::Short('D', _) => worst = worst.or(unread(name, DEBUGGER)),
        Item::Long(n, _) if long_is(n, "debug") => {
            worst = worst.or(unread(name, DEBUGGER));
        }
        Item::Short('d' | 'o' | 'p', Some(v)) => worst = worst.or(writes_val(name, v)),
        Item::Long(n, Some(v))
            if ["dump-variables", "pretty-print", "profile"]
                .iter()
                .any(|o| long_is(n, o)) =>
        {
            worst = worst.or(writes_val(name, v));
        }
        Item::Short('S', _) => sandbox = true,
        Item::Long("sandbox", _) => sandbox = true,
        Item::Short('W', value) => {
            let option = value.map_or("", |v| v.text);
            let option = option.split_once('=').map_or(option, |(o, _)| o);
            if option == "sandbox" {
                sandbox = true;
            } else if !value.is_some_and(|v| v.literal) || !HARMLESS_W.contains(&option) {
                worst = worst.or(Finding::new(
                    Tier::High,
                    name,
                    Why::Names(
                        "has the option `-W`",
                        option,
                        ", which the engine does not check",
                    ),
                ));
            }
        }
        _ => {}
    });
    // Only gawk has `--sandbox`; another awk given it may not refuse what it names.
    let sandbox = sandbox && name == "gawk";
    let mut program_operand = !in_options;
    walk(args, &SPEC, |item| {
        let program = match item {
            Item::Short('e', Some(v)) => v,
            Item::Long(n, Some(v)) if long_is(n, "source") => v,
            Item::Operand(w) | Item::Computed(w) if program_operand => {
                program_operand = false;
                Val {
                    text: &w.text,
                    literal: !w.may_be_option(),
                }
            }
            // Later operands are input files and `var=value` assignments: awk stops reading
            // options at its program, so neither can change what it does.
            _ => return,
        };
        if !program.literal {
            worst = worst.or(Finding::new(
                Tier::High,
                name,
                Why::Names("has the program", program.text, ", known only at run time"),
            ));
            return;
        }
        scan(program.text, |effect| {
            let found = match effect {
                Effect::Writes(_) | Effect::Runs(_) | Effect::Connects(_) | Effect::Dynamic(_)
                    if sandbox && effect != Effect::Dynamic(INCLUDES) =>
                {
                    return
                }
                Effect::Writes(raw) => match decode(raw) {
                    Some(path) => {
                        let at = place_of(&path);
                        Finding::new(at.write_tier(), name, Why::Path("writes to", raw, at))
                    }
                    None => escapes(name, raw),
                },
                Effect::Runs(raw) => match decode(raw) {
                    Some(line) => Finding::new(c.runs(&line), name, Why::Runs(raw)),
                    None => escapes(name, raw),
                },
                Effect::Connects(raw) => Finding::new(
                    Tier::Critical,
                    name,
                    Why::Names("connects through", raw, " (network access)"),
                ),
                Effect::Dynamic(what) => Finding::says(Tier::High, name, what),
                Effect::Unclear => Finding::says(
                    Tier::High,
                    name,
                    "has a program the engine cannot read with confidence",
                ),
            };
            worst = worst.or(found);
        });
    });
    worst
}

fn unread<'c>(name: &'c str, what: &'static str) -> Finding<'c> {
    Finding::says(Tier::High, name, what)
}

fn writes_val<'c>(name: &'c str, v: Val<'c>) -> Finding<'c> {
    let at = v.place();
    Finding::new(at.write_tier(), name, Why::Path("writes to", v.text, at))
}

fn escapes<'c>(name: &'c str, raw: &'c str) -> Finding<'c> {
    Finding::new(
        Tier::High,
        name,
        Why::Names(
            "has the string",
            raw,
            ", whose escapes awks decode differently",
        ),
    )
}

const INCLUDES: &str = "includes a program file the engine cannot read (`@include`)";
const FROM_FILE: &str = "reads its program from a file, which the engine cannot read";
const LIBRARY: &str = "includes a library file, which the engine cannot read";
const EXTENSION: &str = "loads an extension, which the engine cannot read";
const DEBUGGER: &str = "starts its debugger, which reads commands the engine cannot see";

/// Reports every effect of `program`; stops at the first unclear point.
pub(crate) fn scan<'s>(program: &'s str, mut effect: impl FnMut(Effect<'s>)) {
    let mut lx = Lexer::new(program);
    // The two tokens before the current one, to find the command of `CMD | getline`.
    let mut before = [Tok::Newline, Tok::Newline];
    let mut print_depth: Option<u32> = None;
    let mut environ = false;
    let mut runs = false;
    loop {
        let tok = lx.next();
        match tok {
            Tok::End => break,
            Tok::Unclear => {
                effect(Effect::Unclear);
                return;
            }
            Tok::Newline if !matches!(before[1], Tok::Op("," | "&&" | "||")) => {
                print_depth = None;
            }
            Tok::Op(";" | "{" | "}") => print_depth = None,
            Tok::Op(")") if print_depth.is_some_and(|d| d > lx.depth) => print_depth = None,
            Tok::Name("print" | "printf") => print_depth = Some(lx.depth),
            Tok::Name("ENVIRON") => environ = true,
            Tok::Name("system") => {
                let mut look = lx;
                match (look.next(), look.next(), look.next()) {
                    (Tok::Op("("), Tok::Str(raw), Tok::Op(")")) => {
                        runs = true;
                        effect(Effect::Runs(raw));
                    }
                    _ => effect(Effect::Dynamic(
                        "runs a command built at run time (`system`)",
                    )),
                }
            }
            Tok::Str(raw) if raw.starts_with("/inet") => effect(Effect::Connects(raw)),
            Tok::Op(pipe @ ("|" | "|&")) => {
                let at_print = print_depth == Some(lx.depth);
                let mut look = lx;
                if look.next() == Tok::Name("getline") {
                    match before {
                        [start, Tok::Str(raw)] if !at_print && starts_expression(start) => {
                            runs = true;
                            effect(Effect::Runs(raw));
                        }
                        _ => effect(Effect::Dynamic(
                            "reads from a command built at run time (`| getline`)",
                        )),
                    }
                } else if at_print {
                    match target(lx) {
                        Some(raw) => {
                            runs = true;
                            effect(Effect::Runs(raw));
                        }
                        None if pipe == "|&" => effect(Effect::Dynamic(
                            "starts a coprocess built at run time (`|&`)",
                        )),
                        None => effect(Effect::Dynamic(
                            "pipes its output to a command built at run time",
                        )),
                    }
                } else {
                    effect(Effect::Unclear);
                    return;
                }
            }
            Tok::Op(">" | ">>") if print_depth == Some(lx.depth) => match target(lx) {
                Some(raw) if raw.starts_with("/inet") => {}
                Some(raw) => effect(Effect::Writes(raw)),
                None => effect(Effect::Dynamic("writes to a file named at run time")),
            },
            Tok::At => {
                let mut look = lx;
                match look.next() {
                    Tok::Name("load") => effect(Effect::Dynamic(
                        "loads an extension the engine cannot read (`@load`)",
                    )),
                    Tok::Name("include") => effect(Effect::Dynamic(INCLUDES)),
                    Tok::Name("namespace") => {}
                    _ => effect(Effect::Dynamic(
                        "calls a function whose name is known only at run time",
                    )),
                }
            }
            _ => {}
        }
        before = [before[1], tok];
    }
    if environ && runs {
        effect(Effect::Dynamic(
            "may change the environment of the commands it runs (`ENVIRON`)",
        ));
    }
}

/// True when a string after `tok` starts an expression of its own, so `tok "cmd" | getline`
/// runs exactly `cmd` (after `$`, an operand or another string it would be part of a
/// larger expression).
fn starts_expression(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Newline | Tok::Op(";" | "{" | "}" | "(" | "," | "=" | "&&" | "||" | "?" | ":")
    )
}

/// The string literal after a redirection or pipe in `print`, when it is the whole target.
fn target<'s>(mut lx: Lexer<'s>) -> Option<&'s str> {
    match (lx.next(), lx.next()) {
        (Tok::Str(raw), Tok::End | Tok::Newline | Tok::Op(";" | "}")) => Some(raw),
        _ => None,
    }
}

/// The value of a string literal, or `None` when it holds an escape that awks decode
/// differently (octal, hex, unknown letters), so the engine cannot be sure what runs.
pub(crate) fn decode(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('\\') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            c @ ('"' | '\\' | '/') => c,
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            _ => return None,
        });
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effects(program: &str) -> Vec<Effect<'_>> {
        let mut out = Vec::new();
        scan(program, |e| out.push(e));
        out
    }

    #[test]
    fn text_processing_has_no_effects() {
        for program in [
            "{ print $2 }",
            "{ s += $3 } END { print s / NR }",
            "BEGIN { FS = \":\" } $3 > 1000 { print $1 }",
            "NR > 1 && $2 ~ /a|b/ { n++ } END { printf \"%d\\n\", n }",
            "{ print (length($0) > 80 ? \"long\" : \"short\") }",
            "{ a = $1 / 2; b = a / 3; print a, b }",
            "/[[:alpha:]]+/ { print }",
            "if (x) /re/ { }",
            "{ while ((getline line < \"data.txt\") > 0) print line }",
            "{ print > \"/dev/stderr\" }",
            "# a comment with system(\"curl x\")\n{ print }",
            "{ gsub(/\\//, \"-\"); print }",
            "@namespace \"x\"\n{ print }",
            "{ x = \"a|b\" }",
        ] {
            let e = effects(program);
            assert!(
                e.iter().all(|e| matches!(e, Effect::Writes(_))),
                "{program:?} gave {e:?}"
            );
        }
        assert_eq!(
            effects("{ print > \"/dev/stderr\" }"),
            [Effect::Writes("/dev/stderr")]
        );
    }

    #[test]
    fn commands_files_and_sockets_are_reported() {
        assert_eq!(
            effects("BEGIN { system(\"curl x\") }"),
            [Effect::Runs("curl x")]
        );
        assert_eq!(effects("BEGIN{system (\"id\")}"), [Effect::Runs("id")]);
        assert_eq!(effects("{ print | \"sh\" }"), [Effect::Runs("sh")]);
        assert_eq!(effects("{ print $1 |& \"bc\" }"), [Effect::Runs("bc")]);
        assert_eq!(
            effects("BEGIN { while ((\"date\" | getline d) > 0) n++ }"),
            [Effect::Runs("date")]
        );
        assert_eq!(
            effects("{ print > \"/etc/passwd\" }"),
            [Effect::Writes("/etc/passwd")]
        );
        assert_eq!(
            effects("{ print $1, $2 >> \"out.txt\"; n++ }"),
            [Effect::Writes("out.txt")]
        );
        assert_eq!(
            effects("{ print \"a\",\n \"b\" > \".git/config\" }"),
            [Effect::Writes(".git/config")]
        );
        assert_eq!(
            effects("BEGIN { s = \"/inet/tcp/0/evil/80\"; print |& s }"),
            [
                Effect::Connects("/inet/tcp/0/evil/80"),
                Effect::Dynamic("starts a coprocess built at run time (`|&`)")
            ]
        );
        assert!(matches!(
            effects("BEGIN { system(c) }")[..],
            [Effect::Dynamic(_)]
        ));
        assert!(matches!(
            effects("BEGIN { system(\"ls \" d) }")[..],
            [Effect::Dynamic(_)]
        ));
        assert!(matches!(
            effects("{ \"ls \" $1 | getline x }")[..],
            [Effect::Dynamic(_)]
        ));
        assert!(matches!(
            effects("{ print > $1 \".txt\" }")[..],
            [Effect::Dynamic(_)]
        ));
        assert!(matches!(
            effects("{ print | cmd }")[..],
            [Effect::Dynamic(_)]
        ));
        assert!(matches!(
            effects("@load \"filefuncs\"")[..],
            [Effect::Dynamic(_)]
        ));
        assert!(matches!(
            effects("BEGIN { f = \"system\"; @f(\"id\") }")[..],
            [Effect::Dynamic(_)]
        ));
        assert_eq!(
            effects("BEGIN { ENVIRON[\"PATH\"] = \".\"; system(\"ls\") }"),
            [
                Effect::Runs("ls"),
                Effect::Dynamic("may change the environment of the commands it runs (`ENVIRON`)")
            ]
        );
    }

    #[test]
    fn what_the_scanner_cannot_follow_is_unclear() {
        for program in [
            "{ print \"open",
            "/[/]/ { print }",
            "{ print ) }",
            "{ x = 1 | 2 }",
            "{ print `id` }",
            "/unterminated",
        ] {
            assert_eq!(
                effects(program).last(),
                Some(&Effect::Unclear),
                "{program:?}"
            );
        }
    }

    #[test]
    fn a_regex_after_a_condition_is_not_taken_for_division() {
        // If `/` after `)` were division, the quote inside the regex would open a string that
        // swallows the `system` call.
        assert_eq!(
            effects("{ if (1) /\"/; system(\"curl x\"); y = \"/\" }"),
            [Effect::Runs("curl x")]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever the program, the scanner ends without panicking, and a program it cannot
        /// follow says so last.
        #[test]
        fn any_program_is_scanned_to_its_end(program in "[ -~\n\t]{0,64}|\\PC{0,32}") {
            let e = effects(&program);
            proptest::prop_assert!(
                !e[..e.len().saturating_sub(1)].contains(&Effect::Unclear),
                "{program:?} gave {e:?}"
            );
            let _ = decode(&program);
        }
    }

    #[test]
    fn escapes_are_decoded_only_where_every_awk_agrees() {
        assert_eq!(decode("a\\\"b\\\\c\\/d\\n").as_deref(), Some("a\"b\\c/d\n"));
        assert_eq!(decode("plain").as_deref(), Some("plain"));
        assert_eq!(decode("\\143url"), None);
        assert_eq!(decode("\\x63url"), None);
        assert_eq!(decode("\\q"), None);
    }
}
