//! Programs that start the command they are given, and tools that run programs named in
//! their options: `find`, `xargs`, `env`, `time`, `strace`, `flock`, `ionice`, `taskset`,
//! and `nm`/`diff3`/`sdiff`.
//!
//! A launcher is low because the parser surfaces the command it starts, which is judged on
//! its own; what is judged here is what the launcher itself adds (a folder to run in, a file
//! to write, a process to attach to, arguments the started program gets from input).

use super::environ;
use super::options::{long_is, unseen, walk, Item, Spec, Val};
use super::place::{place, place_of, Place};
use super::table::is_read_only;
use super::{Call, Finding, Why};
use crate::shell::wrappers::{option_words, XARGS_VALUES};
use crate::shell::Word;
use crate::tier::Tier;

/// `find` tests whose next word is a value, not part of the expression.
#[rustfmt::skip]
const FIND_VALUES: &[&str] = &[
    "-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
    "-regextype", "-type", "-xtype", "-user", "-group", "-uid", "-gid", "-perm", "-size", "-mtime",
    "-mmin", "-atime", "-amin", "-ctime", "-cmin", "-used", "-maxdepth", "-mindepth", "-samefile",
    "-inum", "-links", "-lname", "-ilname", "-fstype", "-context", "-printf",
];

/// `find`: `-delete` is recursive deletion, `-fprint*` write a file, and `-exec` over start
/// points outside the workspace hands a program paths the engine cannot see (unless that
/// program only reads). The programs `-exec` runs are surfaced by the parser and judged on
/// their own. A word that may turn into other words at run time — an expansion, which may
/// also split, or a pattern such as `*`, which may match a file named `-delete` — could be
/// any part of the expression, so it is high wherever it stands.
pub(crate) fn find<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    if let Some(w) = args.iter().find(|w| w.may_be_option()) {
        return Finding::new(
            Tier::High,
            name,
            Why::Names(
                "has the argument",
                &w.text,
                ", which may turn into any part of its expression at run time",
            ),
        );
    }
    let mut i = 0;
    while let Some(w) = args.get(i).filter(|w| w.literal) {
        match w.text.as_str() {
            "-H" | "-L" | "-P" => i += 1,
            "-D" => i += 2,
            t if t.starts_with("-O") => i += 1,
            _ => break,
        }
    }
    let mut starts_inside = !args.iter().any(|a| a.text == "-files0-from");
    while let Some(w) = args.get(i) {
        if w.literal
            && (w.text.starts_with('-') || matches!(w.text.as_str(), "(" | ")" | "!" | ","))
        {
            break;
        }
        starts_inside &= place(w) == Place::Inside;
        i += 1;
    }
    let mut worst = Finding::low(name, "searches files");
    while let Some(w) = args.get(i) {
        i += 1;
        match w.text.as_str() {
            "-delete" => {
                worst = worst.or(Finding::says(
                    Tier::Critical,
                    name,
                    "deletes every file it matches (recursive deletion)",
                ));
            }
            "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                if let Some(file) = args.get(i) {
                    worst = worst.or(Finding::write(name, "writes to", file));
                }
                i += if w.text == "-fprintf" { 2 } else { 1 };
            }
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                if let Some(program) = args.get(i) {
                    if !starts_inside && !is_read_only(program) {
                        worst = worst.or(Finding::new(
                            Tier::High,
                            name,
                            Why::Names(
                                "runs",
                                &program.text,
                                " on files it finds outside the workspace",
                            ),
                        ));
                    }
                }
                let end = args[i.min(args.len())..]
                    .iter()
                    .position(|a| a.text == ";" || a.text == "+");
                i = end.map_or(args.len(), |p| i + p + 1);
            }
            "-files0-from" => i += 1,
            t if FIND_VALUES.contains(&t) || t.starts_with("-newer") => i += 1,
            _ => {}
        }
    }
    worst
}

/// `xargs PROGRAM`: the program gets arguments read from its input, which the engine cannot
/// see, so it must be one that only reads.
pub(crate) fn xargs<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let t = w.text.as_str();
        if !w.literal || t == "--" {
            i += usize::from(w.literal);
            break;
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += option_words(t, XARGS_VALUES);
    }
    match args.get(i) {
        None => Finding::low(name, "prints its input"),
        Some(program) if is_read_only(program) => Finding::new(
            Tier::Low,
            name,
            Why::Names("runs", &program.text, ", which only reads, on its input"),
        ),
        Some(program) => Finding::new(
            Tier::High,
            name,
            Why::Names(
                "runs",
                &program.text,
                " on arguments read from its input, which the engine cannot see",
            ),
        ),
    }
}

/// `env`: a launcher, unless `-C DIR` runs the command in another folder; the variables it
/// sets are judged like assignments.
pub(crate) fn env<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    let mut worst = Finding::low(name, "starts the command it is given");
    let mut i = 0;
    while let Some(w) = args.get(i).filter(|w| w.literal) {
        let t = w.text.as_str();
        if t == "--" {
            break;
        }
        let step = if t.starts_with('-') {
            let (dir, step) = env_option(t, args.get(i + 1));
            if let Some((text, literal)) = dir {
                let at = if literal {
                    place_of(text)
                } else {
                    Place::Computed
                };
                if at != Place::Inside {
                    worst = worst.or(Finding::new(
                        at.write_tier().max(Tier::High),
                        name,
                        Why::Path("runs its command in", text, at),
                    ));
                }
            }
            step
        } else if t.contains('=') {
            if let Some(found) = environ::assignment(c, w) {
                worst = worst.or(found);
            }
            1
        } else {
            break;
        };
        i += step;
    }
    worst
}

/// The folder an `env` option runs the command in (`-C DIR`, `-vC DIR`, `--chdir=DIR`), if
/// any, and how many words the option spans.
fn env_option<'c>(t: &'c str, next: Option<&'c Word>) -> (Option<(&'c str, bool)>, usize) {
    let next_dir = next.map(|d| (d.text.as_str(), d.literal));
    if let Some(long) = t.strip_prefix("--") {
        let (name, value) = long
            .split_once('=')
            .map_or((long, None), |(n, v)| (n, Some(v)));
        let is = |option: &str| !name.is_empty() && option.starts_with(name);
        return match value {
            Some(dir) if is("chdir") => (Some((dir, true)), 1),
            None if is("chdir") => (next_dir, 2),
            None if is("unset") => (None, 2),
            _ => (None, 1),
        };
    }
    let letters = t.strip_prefix('-').unwrap_or("");
    for (at, letter) in letters.char_indices() {
        let rest = &letters[at + letter.len_utf8()..];
        match letter {
            'C' if rest.is_empty() => return (next_dir, 2),
            'C' => return (Some((rest, true)), 1),
            'u' if rest.is_empty() => return (None, 2),
            'u' => return (None, 1),
            _ => {}
        }
    }
    (None, 1)
}

/// The launcher's own options: the words before the command it starts (whose options are
/// its own business, judged with it).
fn own_options<'a>(args: &'a [Word], with_value: &[&str]) -> &'a [Word] {
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let t = w.text.as_str();
        if !w.literal || !t.starts_with('-') || t == "-" || t == "--" {
            break;
        }
        i += option_words(t, with_value);
    }
    &args[..i.min(args.len())]
}

/// `time -o FILE`, `strace -o FILE`, `strace -p PID`.
pub(crate) fn traced<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let (spec, with_value) = if name == "time" {
        let spec = Spec {
            short: "fo",
            short_attached: "",
            long: &["format", "output"],
        };
        (spec, &["-f", "-o", "--format", "--output"][..])
    } else {
        let spec = Spec {
            short: "eopsuEabIOPSX",
            short_attached: "",
            long: &[
                "output",
                "attach",
                "trace",
                "signal",
                "string-limit",
                "user",
            ],
        };
        let with_value = &[
            "-e", "-o", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-O", "-P", "-S", "-X",
        ][..];
        (spec, with_value)
    };
    let mut worst = Finding::low(name, "starts the command it is given");
    walk(own_options(c.args, with_value), &spec, |item| match item {
        Item::Short('o', Some(v)) => worst = worst.or(write_val(name, v)),
        Item::Long(n, Some(v)) if long_is(n, "output") => worst = worst.or(write_val(name, v)),
        Item::Short('p', _) if name != "time" => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "attaches to a running process",
            ));
        }
        Item::Long(n, _) if name != "time" && long_is(n, "attach") => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "attaches to a running process",
            ));
        }
        _ => {}
    });
    worst
}

fn write_val<'c>(program: &'c str, v: Val<'c>) -> Finding<'c> {
    let at = v.place();
    Finding::new(at.write_tier(), program, Why::Path("writes to", v.text, at))
}

/// Read-only tools with an option that loads or runs another program: `nm --plugin LIB`,
/// `diff3 --diff-program=PROG` and `sdiff --diff-program=PROG` (whose `-o` also writes the
/// merged file).
pub(crate) fn helper<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = Spec {
        short: if name == "sdiff" { "o" } else { "" },
        short_attached: "",
        long: &["plugin", "diff-program", "output"],
    };
    let mut worst = Finding::low(name, "read-only");
    walk(c.args, &spec, |item| match item {
        Item::Long(n, _) if long_is(n, "plugin") || long_is(n, "diff-program") => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "loads or runs the program it is given",
            ));
        }
        Item::Short('o', Some(v)) => worst = worst.or(write_val(name, v)),
        Item::Long(n, Some(v)) if name == "sdiff" && long_is(n, "output") => {
            worst = worst.or(write_val(name, v));
        }
        Item::Computed(w) => worst = worst.or(unseen(name, w)),
        _ => {}
    });
    worst
}

/// `flock FILE CMD`: the lock file is created if missing.
pub(crate) fn flock<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = Spec {
        short: "wEc",
        short_attached: "",
        long: &["timeout", "wait", "conflict-exit-code", "command"],
    };
    let mut lock = None;
    walk(c.args, &spec, |item| {
        if let Item::Operand(w) | Item::Computed(w) = item {
            lock.get_or_insert(w);
        }
    });
    match lock {
        Some(w) if !(w.literal && w.text.bytes().all(|b| b.is_ascii_digit())) => {
            let found = Finding::write(name, "locks", w);
            found.or(Finding::low(name, "starts the command it is given"))
        }
        _ => Finding::low(name, "starts the command it is given"),
    }
}

/// `ionice` and `taskset`: launchers, unless `-p` changes a process that already runs.
pub(crate) fn scheduled<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let with_value = &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"][..];
    let options = own_options(c.args, if name == "ionice" { with_value } else { &[] });
    let other = options.iter().any(|a| {
        a.text == "--pid"
            || (a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains('p'))
    });
    if other {
        Finding::says(
            Tier::Medium,
            name,
            "changes the scheduling of a running process",
        )
    } else {
        Finding::low(name, "starts the command it is given")
    }
}
