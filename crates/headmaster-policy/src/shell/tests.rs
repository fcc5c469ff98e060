//! Unit tests of the parser: operators, substitutions, quoting, redirections, launchers, and
//! everything that must be refused.

use super::*;

fn programs(line: &str) -> Vec<String> {
    parse(line)
        .unwrap_or_else(|e| panic!("{line:?} should parse: {e}"))
        .commands
        .iter()
        .map(|c| c.basename().to_owned())
        .collect()
}

fn refused(line: &str) -> Unparseable {
    match parse(line) {
        Ok(cl) => panic!("{line:?} should be refused, parsed as {cl:?}"),
        Err(e) => e,
    }
}

#[test]
fn operators_split_a_line_into_its_commands() {
    assert_eq!(programs("ls && curl evil"), ["ls", "curl"]);
    assert_eq!(programs("ls; rm -rf /"), ["ls", "rm"]);
    assert_eq!(programs("a || b & c\nd"), ["a", "b", "c", "d"]);
    assert_eq!(programs("a |& b | c"), ["a", "b", "c"]);
    assert_eq!(programs("a &&\n b"), ["a", "b"]);
    assert_eq!(programs(""), Vec::<String>::new());
    assert_eq!(programs("  # only a comment"), Vec::<String>::new());
}

#[test]
fn pipes_mark_the_reading_side() {
    let cl = parse("cat f | sh").unwrap();
    assert!(!cl.commands[0].piped_input && cl.commands[1].piped_input);
    let cl = parse("cat f | { sh; }").unwrap();
    assert!(cl.commands[1].piped_input, "{cl:?}");
    let cl = parse("cat f | (bash)").unwrap();
    assert!(cl.commands[1].piped_input, "{cl:?}");
}

#[test]
fn substitutions_are_parsed_as_commands() {
    assert_eq!(programs("echo $(curl x)"), ["curl", "echo"]);
    assert_eq!(programs("echo `id`"), ["id", "echo"]);
    assert_eq!(
        programs("echo \"$(wget -q -O- x | sh)\""),
        ["wget", "sh", "echo"]
    );
    assert_eq!(programs("diff <(curl a) >(tee b)"), ["curl", "tee", "diff"]);
    assert_eq!(programs("echo `echo \\`id\\``"), ["id", "echo", "echo"]);
    assert_eq!(programs("X=$(curl x) ls"), ["curl", "ls"]);
    let cl = parse("echo $(curl x)").unwrap();
    assert_eq!(cl.commands[0].origin, Origin::Substitution);
}

#[test]
fn subshells_groups_and_control_words_are_flattened() {
    assert_eq!(programs("(cd x && curl y)"), ["cd", "curl"]);
    assert_eq!(programs("{ ls; rm -rf x; }"), ["ls", "rm"]);
    assert_eq!(
        programs("if test -f x; then curl a; else wget b; fi"),
        ["test", "curl", "wget"]
    );
    assert_eq!(
        programs("for f in $(ls); do rm \"$f\"; done"),
        ["ls", "for", "rm"]
    );
    assert_eq!(programs("while true; do nc -l 1; done"), ["true", "nc"]);
    assert_eq!(programs("! grep x f"), ["grep"]);
}

#[test]
fn quotes_and_escapes_are_removed() {
    let cl = parse(r#"'cu'"rl" \-\-x 'a b' "c\"d" e\ f"#).unwrap();
    let c = &cl.commands[0];
    assert_eq!(c.program, "curl");
    let args: Vec<&str> = c.args.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(args, ["--x", "a b", "c\"d", "e f"]);
    assert!(c.args.iter().all(|a| a.literal));
    assert_eq!(programs("/usr/bin/curl x"), ["curl"]);
    assert_eq!(programs("\\curl x"), ["curl"]);
    assert_eq!(programs("echo 'héllo wörld' | wc"), ["echo", "wc"]);
}

#[test]
fn redirections_are_reported_with_their_targets() {
    let cl = parse("echo hi > /etc/passwd 2>&1 >>log <in &>both 3> x").unwrap();
    let r = &cl.commands[0].redirects;
    let ops: Vec<RedirectOp> = r.iter().map(|r| r.op).collect();
    assert_eq!(
        ops,
        [
            RedirectOp::Write,
            RedirectOp::Dup,
            RedirectOp::Append,
            RedirectOp::Read,
            RedirectOp::WriteBoth,
            RedirectOp::Write
        ]
    );
    assert_eq!(r[0].target.text, "/etc/passwd");
    assert_eq!(r[1].fd, Some(2));
    assert_eq!(r[5].fd, Some(3));
    assert!(r[0].writes() && !r[3].writes() && !r[1].is_file());
    let cl = parse("(ls; pwd) > out").unwrap();
    assert!(cl.commands.iter().all(|c| c.redirects.len() == 1));
    assert_eq!(
        parse("echo x >&file").unwrap().commands[0].redirects[0].op,
        RedirectOp::WriteBoth
    );
}

#[test]
fn shell_strings_eval_and_wrappers_are_followed() {
    assert_eq!(programs("sh -c 'ls; curl x'"), ["sh", "ls", "curl"]);
    assert_eq!(programs("bash -lc \"wget y\""), ["bash", "wget"]);
    assert_eq!(programs("bash -o pipefail -c 'nc h 1'"), ["bash", "nc"]);
    assert_eq!(programs("eval 'rm -rf' /"), ["eval", "rm"]);
    assert_eq!(programs("env A=1 -u B curl x"), ["env", "curl"]);
    assert_eq!(
        programs("timeout -s KILL 5 nohup nice -n 3 curl x"),
        ["timeout", "nohup", "nice", "curl"]
    );
    assert_eq!(programs("xargs -n 1 rm -rf"), ["xargs", "rm"]);
    assert_eq!(
        programs("find . -name x -exec rm -f {} \\; -exec curl y +"),
        ["find", "rm", "curl"]
    );
    assert_eq!(
        programs("watch -n 1 'curl x | sh'"),
        ["watch", "curl", "sh"]
    );
    assert_eq!(programs("command -p curl"), ["command", "curl"]);
    assert_eq!(programs("sh script.sh"), ["sh"]);
    assert_eq!(
        programs("ionice -c 3 taskset 0x1 strace -f -o log curl x"),
        ["ionice", "taskset", "strace", "curl"]
    );
    assert_eq!(programs("flock -w 5 lockfile wget y"), ["flock", "wget"]);
    assert_eq!(programs("flock lockfile -c 'nc h 1'"), ["flock", "nc"]);
    assert_eq!(
        programs("script -q -c 'ssh h' /dev/null"),
        ["script", "ssh"]
    );
    assert_eq!(
        programs("unshare -r chroot /srv curl x"),
        ["unshare", "chroot", "curl"]
    );
    let cl = parse("env curl x").unwrap();
    assert_eq!(cl.commands[1].origin, Origin::Wrapped);
}

#[test]
fn what_cannot_be_judged_is_refused() {
    assert!(matches!(
        refused("$X -rf /"),
        Unparseable::ComputedProgram(_)
    ));
    assert!(matches!(
        refused("$(echo curl) x"),
        Unparseable::ComputedProgram(_)
    ));
    assert!(matches!(
        refused("/usr/bin/cur? x"),
        Unparseable::ComputedProgram(_)
    ));
    assert!(matches!(
        refused("{curl,x}"),
        Unparseable::ComputedProgram(_)
    ));
    assert!(matches!(
        refused("echo 'open"),
        Unparseable::UnbalancedQuote(_)
    ));
    assert!(matches!(
        refused("echo \"open"),
        Unparseable::UnbalancedQuote(_)
    ));
    assert!(matches!(
        refused("echo `open"),
        Unparseable::UnbalancedQuote(_)
    ));
    assert!(matches!(
        refused("echo $(open"),
        Unparseable::UnbalancedParen(_)
    ));
    assert!(matches!(refused("echo )"), Unparseable::UnbalancedParen(_)));
    assert!(matches!(
        refused("cat <<EOF\ncurl x\nEOF"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("bash <<< 'curl x'"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("case x in a) curl;; esac"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("f() { curl x; }; f"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("alias ls=curl; ls"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("exec 3<>/dev/tcp/h/80"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("PATH=. ls"),
        Unparseable::DangerousAssignment(_)
    ));
    assert!(matches!(
        refused("export LD_PRELOAD=x.so"),
        Unparseable::DangerousAssignment(_)
    ));
    assert!(matches!(
        refused("env PATH=/tmp ls"),
        Unparseable::DangerousAssignment(_)
    ));
    assert!(matches!(
        refused("read PATH < f"),
        Unparseable::DangerousAssignment(_)
    ));
    assert!(matches!(
        refused("sh -c \"$CMD\""),
        Unparseable::ComputedProgram(_)
    ));
    assert!(matches!(
        refused("echo x | xargs sh -c"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("env -S 'curl x'"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("echo $'\\x63url'"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(refused("ls |"), Unparseable::Unexpected { .. }));
    assert!(matches!(refused("| ls"), Unparseable::Unexpected { .. }));
    assert!(matches!(
        refused("a && && b"),
        Unparseable::Unexpected { .. }
    ));
    assert!(matches!(
        refused("echo ${X:-$(curl y)}"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("x='$(curl y)'; echo $((x))"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("export x='`id`'"),
        Unparseable::Unsupported(_)
    ));
    let deep = format!(
        "{}ls{}",
        "$(".repeat(MAX_DEPTH + 2),
        ")".repeat(MAX_DEPTH + 2)
    );
    assert!(matches!(refused(&deep), Unparseable::TooDeep(_)));
}

#[test]
fn arithmetic_is_told_apart_from_a_substituted_subshell() {
    assert_eq!(programs("echo $((1 + 2))"), ["echo"]);
    assert_eq!(programs("echo $((curl x) )"), ["curl", "echo"]);
    assert_eq!(programs("echo $(( (curl x) ))"), ["echo"]);
    // Substitutions inside the sum run first: each is judged like any other.
    assert_eq!(programs("echo $(( `curl x` + 1 ))"), ["curl", "echo"]);
    assert_eq!(programs("echo $(( $(wget y) * 2 ))"), ["wget", "echo"]);
    assert_eq!(
        programs("x=$(( echo `sudo ls` )); echo ok"),
        ["sudo", "", "echo"]
    );
    assert_eq!(programs("ls > >(nc h 1)"), ["nc", "ls"]);
}

#[test]
fn expansions_in_arguments_are_kept_but_marked() {
    let cl = parse("rm $FLAGS \"${HOME}/x\" $((1+2))").unwrap();
    assert!(cl.commands[0].args.iter().all(|a| !a.literal));
    assert_eq!(cl.commands[0].args[1].text, "${HOME}/x");
}

proptest::proptest! {
    /// Whatever a line that parses contains, a command written after it on a new line is
    /// never swallowed unnoticed: it is either seen, or the whole line is refused (critical).
    #[test]
    fn a_command_after_any_parseable_line_is_always_seen(
        line in "[a-z0-9 $(){}`'\"\\\\|&;<>*?#=\n\té-]{0,48}"
    ) {
        if parse(&line).is_ok() {
            let longer = format!("{line}\n\ncurl x");
            let parsed = parse(&longer);
            proptest::prop_assert!(
                parsed
                    .as_ref()
                    .map_or(true, |cl| cl.commands.iter().any(|c| c.program == "curl")),
                "{longer:?} gave {parsed:?}"
            );
        }
    }
}

#[test]
fn a_lone_bracket_is_the_test_command_but_a_bracket_pattern_is_not() {
    let line = super::parse("[ ! -e go ] && echo ok").unwrap();
    let programs: Vec<&str> = line.commands.iter().map(|c| c.program.as_str()).collect();
    assert_eq!(programs, ["[", "echo"]);
    assert!(
        super::parse("[ab]c -x").is_err(),
        "a pattern as the program name stays computed"
    );
}

#[test]
fn assignments_are_kept_with_their_command_or_alone() {
    let cl = parse("GIT_PAGER=cat LANG=C git log").unwrap();
    let texts: Vec<&str> = cl.commands[0]
        .assignments
        .iter()
        .map(|w| w.text.as_str())
        .collect();
    assert_eq!(texts, ["GIT_PAGER=cat", "LANG=C"]);
    assert_eq!(cl.commands[0].display(), "GIT_PAGER=cat LANG=C git log");
    let cl = parse("HOME=.; ls").unwrap();
    assert_eq!(cl.commands.len(), 2);
    assert!(cl.commands[0].program.is_empty());
    assert_eq!(cl.commands[0].assignments[0].text, "HOME=.");
    assert!(matches!(
        refused("PATH+=:. ; ls"),
        Unparseable::DangerousAssignment(_)
    ));
    assert!(matches!(
        refused("export PATH+=:."),
        Unparseable::DangerousAssignment(_)
    ));
    assert!(matches!(
        refused("declare -n ref=PATH; ref=."),
        Unparseable::Unsupported(_)
    ));
}

#[test]
fn trap_time_and_command_run_what_bash_runs() {
    assert_eq!(programs("trap 'curl x' EXIT"), ["trap", "curl"]);
    assert_eq!(programs("trap -- 'rm -rf x' INT TERM"), ["trap", "rm"]);
    assert_eq!(programs("trap - EXIT; trap INT"), ["trap", "trap"]);
    assert_eq!(programs("time -p curl x"), ["curl"]);
    assert_eq!(programs("command -v curl"), ["command"]);
    assert_eq!(programs("command -p curl x"), ["command", "curl"]);
    assert!(matches!(
        refused("trap \"$X\" EXIT"),
        Unparseable::ComputedProgram(_)
    ));
}

#[test]
fn brace_expansions_are_computed_and_patterns_are_marked() {
    let cl = parse("rm {-rf,x} a{b} {} *.o 'q*'").unwrap();
    let args = &cl.commands[0].args;
    let literal: Vec<bool> = args.iter().map(|a| a.literal).collect();
    assert_eq!(literal, [false, true, true, true, true]);
    let glob: Vec<bool> = args.iter().map(|a| a.glob).collect();
    assert_eq!(glob, [false, false, false, true, false]);
    assert!(args[0].may_be_option() && args[3].may_be_option());
    assert!(!args[4].may_be_option());
    assert_eq!(programs("[[ -d x ]] && ls"), ["[[", "ls"]);
}

#[test]
fn option_clusters_with_a_value_hide_no_program() {
    assert_eq!(programs("strace -fo /dev/null curl x"), ["strace", "curl"]);
    assert_eq!(programs("ionice -tc 3 curl x"), ["ionice", "curl"]);
    assert_eq!(programs("env -vC /tmp curl x"), ["env", "curl"]);
    assert_eq!(programs("env --ch=/tmp -u A curl x"), ["env", "curl"]);
    assert_eq!(programs("xargs -tn 1 rm"), ["xargs", "rm"]);
    assert!(matches!(
        refused("env -iS 'curl x'"),
        Unparseable::Unsupported(_)
    ));
    assert!(matches!(
        refused("env --sp='curl x'"),
        Unparseable::Unsupported(_)
    ));
}
