//! Property tests of the parser and the shell judgement on generated lines: nothing panics,
//! a line that cannot be parsed is never low (it is critical), and writing a second line
//! after a first never makes the whole less strict than either part.

use super::shell_at_low;
use super::shell_corpus::CORPUS;
use super::shell_judgement::judged;
use headmaster_policy::{shell, Tier};
use proptest::prelude::*;

/// Words and operators the parser and the judgement treat specially, to reach deep paths
/// more often than random bytes do.
const PIECES: &[&str] = &[
    "ls",
    "awk",
    "'{ print > \"x\" }'",
    "'BEGIN{system(\"id\")}'",
    "sed",
    "'s/a/b/e'",
    "-i",
    "find",
    ".",
    "-exec",
    "{}",
    "\\;",
    "+",
    "-delete",
    "xargs",
    "git",
    "-c",
    "clone",
    "log",
    "tar",
    "czf",
    "--to-command=sh",
    "env",
    "GIT_PAGER=curl",
    "HOME=.",
    "sh",
    "bash",
    "-c",
    "trap",
    "'curl x'",
    "EXIT",
    "python3",
    "-m",
    "pip",
    "install",
    "openssl",
    "s_client",
    "rm",
    "-rf",
    "*",
    "{a,b}",
    "$(",
    ")",
    "`",
    "(",
    "|",
    "||",
    "&&",
    ";",
    "&",
    "\n",
    "\"",
    "'",
    "<",
    ">",
    ">>",
    "2>&1",
    "/dev/tcp/h/1",
    "/etc/passwd",
    "../x",
    ".git/config",
    "$X",
    "\\",
    "#",
    "cd",
    "/",
    "--",
    "-",
    "=",
    "x=1",
    "<(",
    "export",
    "read",
    "timeout",
    "5",
    "curl",
];

fn pieces() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(PIECES), 0..14).prop_map(|p| p.join(" "))
}

/// A line is critical when it cannot be parsed, and never denied (the policy has no rules).
fn check(line: &str) -> Result<(), TestCaseError> {
    let parsed = shell::parse(line);
    let v = judged(shell_at_low(), line);
    prop_assert!(v.tier.is_some(), "{line:?} was denied: {:?}", v.reasons);
    if parsed.is_err() {
        prop_assert_eq!(v.tier, Some(Tier::Critical), "{:?}: {:?}", line, v.reasons);
    }
    if v.tier == Some(Tier::Low) {
        prop_assert!(parsed.is_ok(), "{line:?} is low but cannot be parsed");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn shell_like_text_never_panics_and_unparseable_is_critical(
        line in "[a-z0-9 $(){}`'\"\\\\|&;<>*?#=\n\t./~-]{0,64}"
    ) {
        check(&line)?;
    }

    #[test]
    fn known_pieces_in_any_order_never_panic_and_unparseable_is_critical(line in pieces()) {
        check(&line)?;
    }

    #[test]
    fn any_text_never_panics(line in "\\PC{0,48}") {
        check(&line)?;
    }

    #[test]
    fn a_second_line_never_makes_the_first_less_strict(
        a in 0..CORPUS.len(),
        b in 0..CORPUS.len(),
    ) {
        let ((first, ta, _), (second, tb, _)) = (CORPUS[a], CORPUS[b]);
        let both = format!("{first}\n{second}");
        let v = judged(shell_at_low(), &both);
        prop_assert!(
            v.tier >= Some(ta.max(tb)),
            "{:?} is {:?}, but its parts are {} and {}", both, v.tier, ta, tb
        );
    }
}
