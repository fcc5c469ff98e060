//! Where a path written on a command line points, as far as its text can tell.
//!
//! The sandbox runs every command in the workspace folder, so a relative path that never
//! climbs out with `..` stays inside it. Everything else is judged by what could go wrong:
//! absolute and home paths are outside, a path through `.git` reaches the configuration and
//! hooks that git runs, and a word computed at run time could be anything.

use crate::args::{self, PathForm};
use crate::shell::Word;
use crate::tier::Tier;

/// Where a path points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A relative path that stays inside the workspace.
    Inside,
    /// A harmless device: `/dev/null`, `/dev/stdout`, `/dev/fd/N`, ….
    Device,
    /// Absolute, home-relative, climbing out with `..`, or a pattern that could match `..`.
    Outside,
    /// Inside the workspace, but through a `.git` folder.
    GitDir,
    /// Known only at run time (`$F`, `"$(…)"`).
    Computed,
    /// Bash's `/dev/tcp/…` and `/dev/udp/…` sockets.
    Socket,
}

impl Place {
    /// The least tier of writing to (or creating, moving, linking) this place.
    pub(crate) fn write_tier(self) -> Tier {
        match self {
            Place::Inside | Place::Device => Tier::Low,
            Place::Outside | Place::GitDir | Place::Computed => Tier::High,
            Place::Socket => Tier::Critical,
        }
    }

    /// The words that end a sentence about a path in this place.
    pub(crate) fn phrase(self) -> &'static str {
        match self {
            Place::Inside | Place::Device => "inside the workspace",
            Place::Outside => "outside the workspace",
            Place::GitDir => "inside .git, where git keeps the configuration and hooks it runs",
            Place::Computed => "(a path known only at run time)",
            Place::Socket => "(a network socket)",
        }
    }
}

/// Devices that neither store nor send anything.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/tty",
];

/// Where `word` points. A computed word that starts with a socket's prefix
/// (`/dev/tcp/$HOST/80`) is a socket whatever the rest turns out to be.
pub(crate) fn place(word: &Word) -> Place {
    if word.literal {
        place_of(&word.text)
    } else if is_socket(&word.text) {
        Place::Socket
    } else {
        Place::Computed
    }
}

fn is_socket(path: &str) -> bool {
    path.starts_with("/dev/tcp/") || path.starts_with("/dev/udp/")
}

/// Where the literal path `path` points.
pub(crate) fn place_of(path: &str) -> Place {
    if is_socket(path) {
        return Place::Socket;
    }
    if DEVICES.contains(&path) || path.starts_with("/dev/fd/") {
        return Place::Device;
    }
    match args::normalize(path) {
        PathForm::Absolute(_) | PathForm::Escapes => Place::Outside,
        PathForm::Relative(p) => {
            let mut place = Place::Inside;
            for segment in p.split('/') {
                if segment.eq_ignore_ascii_case(".git") {
                    place = Place::GitDir;
                } else if may_match_dot_dot(segment) {
                    return Place::Outside;
                }
            }
            place
        }
    }
}

/// A pattern segment such as `.*` or `[.]?` that pathname expansion could turn into `..`.
fn may_match_dot_dot(segment: &str) -> bool {
    segment.contains(['*', '?', '['])
        && (segment.starts_with('.') || segment.starts_with('[') || segment.starts_with('?'))
}

/// True when an argument names a bash network socket anywhere in it (`of=/dev/tcp/…`).
pub(crate) fn names_socket(text: &str) -> bool {
    text.contains("/dev/tcp/") || text.contains("/dev/udp/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_follow_the_text_of_the_path() {
        assert_eq!(place_of("drafts/a.txt"), Place::Inside);
        assert_eq!(place_of("./a//b/../c"), Place::Inside);
        assert_eq!(place_of("/etc/hosts"), Place::Outside);
        assert_eq!(place_of("~/.bashrc"), Place::Outside);
        assert_eq!(place_of("a/../../b"), Place::Outside);
        assert_eq!(place_of(".*/x"), Place::Outside);
        assert_eq!(place_of("*.rs"), Place::Inside);
        assert_eq!(place_of(".git/hooks/pre-commit"), Place::GitDir);
        assert_eq!(place_of("sub/.GIT/config"), Place::GitDir);
        assert_eq!(place_of(".github/workflows/x"), Place::Inside);
        assert_eq!(place_of("/dev/null"), Place::Device);
        assert_eq!(place_of("/dev/fd/3"), Place::Device);
        assert_eq!(place_of("/dev/tcp/1.2.3.4/80"), Place::Socket);
        let computed = |text: &str| Word {
            text: text.into(),
            literal: false,
            glob: false,
        };
        assert_eq!(place(&computed("$F")), Place::Computed);
        assert_eq!(place(&computed("/dev/tcp/$H/80")), Place::Socket);
        assert!(names_socket("of=/dev/udp/h/53") && !names_socket("/dev/tcpx"));
    }
}
