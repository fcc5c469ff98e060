//! Programs that run other programs: wrappers, shells with a string, `eval`, `trap`,
//! `find -exec`.
//!
//! For each known launcher, [`next`] says what it would start: a command made of some of its
//! arguments, a shell string to parse, or nothing. When the launched program would only be
//! known at run time (`env $X`, `xargs sh -c` reading its script from input), the line is
//! refused instead. Builtins that rebind names (`export PATH=…`, `read PATH`, `hash -p`,
//! `alias`) are refused here too, because they change what later words mean.

use super::parser::RawWord;
use super::{Unparseable, Word};
use std::ops::Range;

type Result<T> = std::result::Result<T, Unparseable>;

/// What a command starts in turn.
pub(super) enum Next {
    /// Nothing the parser needs to follow.
    Nothing,
    /// Commands made of these ranges of the argument list.
    Run(Vec<Range<usize>>),
    /// A shell string to parse as a command line.
    Script(String),
}

const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "posh"];
const LAUNCHERS: &[&str] = &[
    "env", "command", "builtin", "exec", "nohup", "busybox", "time", "nice", "timeout", "stdbuf",
    "setsid", "xargs", "find", "watch", "eval", "sudo", "doas", "su", "ionice", "taskset",
    "strace", "ltrace", "flock", "chroot", "unshare", "nsenter", "script", "trap",
];

/// What `base` (a program's file name) would start, given its arguments.
pub(super) fn next(base: &str, args: &[RawWord]) -> Result<Next> {
    match base {
        "env" => env(args),
        "command" => command(args),
        "builtin" | "setsid" | "nohup" | "busybox" => run_after(args, &[]),
        "exec" => run_after(args, &["-a"]),
        "time" => run_after(args, &["-f", "-o", "--format", "--output"]),
        "nice" => run_after(args, &["-n", "--adjustment"]),
        "stdbuf" => run_after(args, &["-i", "-o", "-e", "--input", "--output", "--error"]),
        "timeout" => {
            let at = after_options(args, &["-s", "-k", "--signal", "--kill-after"])?;
            Ok(run_from(args, at + 1))
        }
        "ionice" => run_after(
            args,
            &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
        ),
        "strace" | "ltrace" => run_after(
            args,
            &[
                "-e", "-o", "-p", "-s", "-u", "-E", "-a", "-b", "-I", "-O", "-P", "-S", "-X",
            ],
        ),
        "unshare" => run_after(args, &["-S", "-G", "-R", "-w", "--setuid", "--setgid"]),
        "nsenter" => run_after(args, &["-t", "-S", "-G", "-r", "-w", "--target"]),
        "taskset" | "chroot" => {
            // `taskset MASK CMD` and `chroot ROOT CMD`: one operand before the program.
            let at = after_options(args, &["--userspec", "--groups"])?;
            Ok(run_from(args, at + 1))
        }
        "flock" => {
            let at = after_options(args, &["-w", "-E", "--timeout", "--conflict-exit-code"])?;
            string_or_run(args, at + 1, &["-c", "--command"])
        }
        "script" => string_or_run(args, args.len(), &["-c", "--command"]),
        "xargs" => xargs(args),
        "find" => find(args),
        "watch" => watch(args),
        "eval" => Ok(Next::Script(joined(args, "eval")?)),
        "trap" => trap(args),
        "export" | "readonly" | "declare" | "typeset" | "local" => {
            for a in args {
                if !a.word.literal {
                    return Err(Unparseable::Unsupported("`export` of a computed name"));
                }
                // `declare -n ref=PATH` makes a later `ref=.` an assignment to PATH.
                let t = a.word.text.as_str();
                if base != "export" && t.starts_with(['-', '+']) && t.contains('n') {
                    return Err(Unparseable::Unsupported("a name reference (`declare -n`)"));
                }
                if let Some(name) = assigned_name(&a.word.text) {
                    check_assignment(name)?;
                    check_stored_code(&a.word)?;
                }
            }
            Ok(Next::Nothing)
        }
        "read" | "mapfile" | "readarray" | "printf" | "getopts" => {
            for a in args.iter().filter(|a| a.word.literal) {
                check_assignment(&a.word.text)?;
            }
            Ok(Next::Nothing)
        }
        "hash" if args.iter().any(|a| a.word.text.starts_with("-p")) => Err(
            Unparseable::Unsupported("`hash -p`, which rebinds a command name,"),
        ),
        "enable" if args.iter().any(|a| a.word.text.starts_with("-f")) => Err(
            Unparseable::Unsupported("`enable -f`, which loads code into the shell,"),
        ),
        "alias" | "unalias" => Err(Unparseable::Unsupported("an alias definition")),
        _ if SHELLS.contains(&base) => shell(args),
        _ => Ok(Next::Nothing),
    }
}

/// The name assigned by a `NAME=value` or `NAME+=value` word, judged on its text (quoting does
/// not matter to `env` and `export`).
fn assigned_name(text: &str) -> Option<&str> {
    super::judge::split_assignment(text).map(|(name, _)| name)
}

/// Index of the first argument after the options. `with_value` lists options that take a
/// separate value (`-n 5`); `--` ends the options. A computed word where an option or the
/// program could stand makes the program unknowable.
fn after_options(args: &[RawWord], with_value: &[&str]) -> Result<usize> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.word.literal {
            return Err(Unparseable::ComputedProgram(a.word.text.clone()));
        }
        let t = a.word.text.as_str();
        if t == "--" {
            return Ok(i + 1);
        }
        if !t.starts_with('-') || t == "-" {
            return Ok(i);
        }
        i += option_words(t, with_value);
    }
    Ok(i)
}

/// How many words the option `t` spans, given the options that take a separate value: 2 when
/// it (`-o`) or the last letter of its cluster (`-fo`, as getopt reads `-f -o`) takes the
/// next word, 1 otherwise (`-ofile`, `-f`, `--long=value`).
pub(super) fn option_words(t: &str, with_value: &[&str]) -> usize {
    if with_value.contains(&t) {
        return 2;
    }
    if t.starts_with("--") {
        return 1;
    }
    let letters = t.strip_prefix('-').unwrap_or("");
    for (at, c) in letters.char_indices() {
        let takes_value = with_value.iter().any(|v| {
            let mut v = v.chars();
            v.next() == Some('-') && v.next() == Some(c) && v.next().is_none()
        });
        if takes_value {
            return if at + c.len_utf8() == letters.len() {
                2
            } else {
                1
            };
        }
    }
    1
}

fn run_from(args: &[RawWord], at: usize) -> Next {
    if at < args.len() {
        Next::Run(std::iter::once(at..args.len()).collect())
    } else {
        Next::Nothing
    }
}

fn run_after(args: &[RawWord], with_value: &[&str]) -> Result<Next> {
    Ok(run_from(args, after_options(args, with_value)?))
}

/// `command -v NAME` and `command -V NAME` only say what NAME is; otherwise `command` runs it.
fn command(args: &[RawWord]) -> Result<Next> {
    let at = after_options(args, &[])?;
    let describes = args[..at]
        .iter()
        .any(|a| a.word.text != "--" && a.word.text.contains(['v', 'V']));
    if describes {
        Ok(Next::Nothing)
    } else {
        Ok(run_from(args, at))
    }
}

/// `trap ACTION SIGNAL…` runs ACTION, a shell string, when a signal arrives or the shell
/// exits. With a single operand, `-`, an empty action or a number first, it only resets.
fn trap(args: &[RawWord]) -> Result<Next> {
    let at = after_options(args, &[])?;
    let operands = &args[at..];
    let [action, _, ..] = operands else {
        return Ok(Next::Nothing);
    };
    if !action.word.literal {
        return Err(Unparseable::ComputedProgram(action.word.text.clone()));
    }
    let t = action.word.text.as_str();
    if t == "-" || t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Next::Nothing);
    }
    Ok(Next::Script(t.to_owned()))
}

fn env(args: &[RawWord]) -> Result<Next> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if !a.word.literal {
            return Err(Unparseable::ComputedProgram(a.word.text.clone()));
        }
        let t = a.word.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if let Some(long) = t.strip_prefix("--") {
            // Long options may be abbreviated: `--sp` is `--split-string`.
            let (name, value) = long
                .split_once('=')
                .map_or((long, None), |(n, v)| (n, Some(v)));
            let is = |option: &str| !name.is_empty() && option.starts_with(name);
            if is("split-string") {
                return Err(Unparseable::Unsupported("`env -S`"));
            }
            i += if value.is_none() && (is("unset") || is("chdir")) {
                2
            } else {
                1
            };
        } else if t.starts_with('-') {
            // A cluster such as `-iS 'curl x'` or `-vC dir`.
            if t.contains('S') {
                return Err(Unparseable::Unsupported("`env -S`"));
            }
            i += option_words(t, &["-u", "-C"]);
        } else if let Some(name) = assigned_name(t) {
            check_assignment(name)?;
            check_stored_code(&a.word)?;
            i += 1;
        } else {
            break;
        }
    }
    Ok(run_from(args, i))
}

fn shell(args: &[RawWord]) -> Result<Next> {
    let mut i = 0;
    let mut has_c = false;
    while let Some(a) = args.get(i) {
        if !a.word.literal {
            return Err(Unparseable::ComputedProgram(a.word.text.clone()));
        }
        let t = a.word.text.as_str();
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if matches!(t, "--rcfile" | "--init-file") {
            return Err(Unparseable::Unsupported("a shell started with an rc file"));
        }
        if t.starts_with("--") {
            i += 1;
        } else if t.len() > 1 && (t.starts_with('-') || t.starts_with('+')) {
            has_c |= t.starts_with('-') && t.contains('c');
            i += if t.contains('o') || t.contains('O') {
                2
            } else {
                1
            };
        } else {
            break;
        }
    }
    if !has_c {
        return Ok(Next::Nothing);
    }
    match args.get(i) {
        Some(script) if script.word.literal => Ok(Next::Script(script.word.text.clone())),
        Some(script) => Err(Unparseable::ComputedProgram(script.word.text.clone())),
        None => Err(Unparseable::Unsupported(
            "`sh -c` without its command string (read at run time)",
        )),
    }
}

/// Launchers that take a shell string after one of `string_flags` anywhere in their
/// arguments, and otherwise run the command starting at `at`.
fn string_or_run(args: &[RawWord], at: usize, string_flags: &[&str]) -> Result<Next> {
    if let Some(flag) = args
        .iter()
        .position(|a| string_flags.contains(&a.word.text.as_str()))
    {
        return match args.get(flag + 1) {
            Some(s) if s.word.literal => Ok(Next::Script(s.word.text.clone())),
            Some(s) => Err(Unparseable::ComputedProgram(s.word.text.clone())),
            None => Err(Unparseable::Unsupported(
                "a command string read at run time",
            )),
        };
    }
    Ok(run_from(args, at))
}

/// Options of `xargs` that take a separate value; the judgement reads the same list to find
/// the program `xargs` starts.
pub(super) const XARGS_VALUES: &[&str] = &[
    "-a",
    "-d",
    "-E",
    "-I",
    "-L",
    "-n",
    "-P",
    "-s",
    "--arg-file",
    "--delimiter",
    "--max-args",
    "--max-procs",
    "--max-chars",
    "--max-lines",
];

fn xargs(args: &[RawWord]) -> Result<Next> {
    let at = after_options(args, XARGS_VALUES)?;
    if let Some(program) = args.get(at) {
        let base = program.word.text.rsplit('/').next().unwrap_or("");
        if SHELLS.contains(&base) || LAUNCHERS.contains(&base) {
            return Err(Unparseable::Unsupported(
                "`xargs` starting a shell or launcher, whose program would come from its input,",
            ));
        }
    }
    Ok(run_from(args, at))
}

fn find(args: &[RawWord]) -> Result<Next> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let t = args[i].word.text.as_str();
        if matches!(t, "-exec" | "-execdir" | "-ok" | "-okdir") {
            let start = i + 1;
            let end = args[start..]
                .iter()
                .position(|a| a.word.text == ";" || a.word.text == "+")
                .map(|p| start + p)
                .ok_or(Unparseable::Unsupported(
                    "`find -exec` without its closing `;`",
                ))?;
            ranges.push(start..end);
            i = end;
        }
        i += 1;
    }
    Ok(if ranges.is_empty() {
        Next::Nothing
    } else {
        Next::Run(ranges)
    })
}

fn watch(args: &[RawWord]) -> Result<Next> {
    let at = after_options(args, &["-n", "--interval"])?;
    let exec = args[..at]
        .iter()
        .any(|a| a.word.text == "-x" || a.word.text == "--exec");
    if exec {
        Ok(run_from(args, at))
    } else {
        Ok(Next::Script(joined(&args[at..], "watch")?))
    }
}

/// The arguments joined by spaces, as `eval` and `watch` hand them to a shell.
fn joined(args: &[RawWord], what: &str) -> Result<String> {
    let mut out = String::new();
    for a in args {
        if !a.word.literal {
            return Err(Unparseable::ComputedProgram(format!(
                "{what} {}",
                a.word.text
            )));
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&a.word.text);
    }
    Ok(out)
}

/// Refuses assignments that change which program a later name runs or what a shell runs
/// before every command.
pub(super) fn check_assignment(name: &str) -> Result<()> {
    let dangerous = matches!(
        name,
        "PATH" | "BASH_ENV" | "ENV" | "IFS" | "SHELLOPTS" | "BASHOPTS" | "PS4" | "PROMPT_COMMAND"
    ) || name.starts_with("LD_")
        || name.starts_with("DYLD_")
        || name.starts_with("BASH_FUNC");
    if dangerous {
        Err(Unparseable::DangerousAssignment(name.to_owned()))
    } else {
        Ok(())
    }
}

/// Refuses a quoted assignment value that holds substitution syntax (`x='$(curl y)'`): bash
/// evaluates such values again in arithmetic (`$((x))`) and `[[ … -eq … ]]`, which would run
/// a command the parser never saw.
pub(super) fn check_stored_code(value: &Word) -> Result<()> {
    if value.literal && (value.text.contains("$(") || value.text.contains('`')) {
        Err(Unparseable::Unsupported(
            "an assignment whose quoted value holds a command substitution",
        ))
    } else {
        Ok(())
    }
}
