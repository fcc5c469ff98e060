//! The programs the engine knows, grouped by how they are judged.
//!
//! Each group pairs a [`Class`] with the file names it covers; [`lookup`] finds a name in a
//! hash map built once from the groups. A name not here is unknown (medium). Versioned names
//! of interpreters and package managers (`python3.12`, `pip3.11`) and the `mkfs.*`-style
//! families are judged as their base name; a versioned name of anything else stays unknown,
//! so a suffix never makes a program look safer.

use super::packages::{self, Manager};
use super::{archive, builtins, files, git, interp, launch, openssl, text, Call, Finding};
use crate::compile::Fnv;
use crate::shell::Word;
use crate::tier::Tier;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

/// A function that judges a program by its arguments.
pub(crate) type Check = for<'c, 'r> fn(&mut Call<'c, 'r>) -> Finding<'c>;

/// How a known program is judged.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Class {
    /// Reads files or prints text; no argument makes it write, run or connect. The phrase
    /// says what it does.
    Read(&'static str),
    /// A shell builtin that only changes the shell's own state.
    Builtin,
    /// Starts the command it is given, which the parser surfaces and the judge judges.
    Launcher,
    /// Judged by a function over its arguments.
    Check(Check),
    /// Runs code the engine cannot read: high, unless only asked for its version or help.
    Code(&'static str),
    /// A package manager or build driver, judged by its subcommand.
    Manager(&'static Manager),
    /// Always this tier, for this reason.
    Fixed(Tier, &'static str),
}

const READS: &str = "read-only";
const PRINTS: &str = "prints text";
const NETWORK: &str = "network access";

#[rustfmt::skip]
const GROUPS: &[(Class, &[&str])] = &[
    (
        Class::Read(READS),
        &[
            "arch", "b2sum", "base32", "base64", "basename", "basenc", "bzcat", "cal", "cat",
            "cksum", "cmp", "column", "comm", "cut", "df", "diff", "dir", "dirname", "du", "egrep",
            "expand", "factor", "fgrep", "fmt", "fold", "free", "getconf", "grep", "groups", "head",
            "hexdump", "id", "jq", "join", "locale", "logname", "look", "ls", "lsof", "md5sum",
            "nl", "nproc", "numfmt", "objdump", "od", "paste", "pgrep", "pr", "printenv", "ps",
            "pwd", "readelf", "readlink", "realpath", "rev", "sha1sum", "sha224sum", "sha256sum",
            "sha384sum", "sha512sum", "size", "sleep", "stat", "strings", "sum", "tac", "tail",
            "tr", "tsort", "tty", "uname", "unexpand", "uptime", "vdir", "w", "wc", "whereis",
            "which", "who", "whoami", "xzcat", "zcat", "zgrep",
        ],
    ),
    (
        Class::Read(PRINTS),
        &["clear", "echo", "expr", "seq", "yes"],
    ),
    (
        Class::Builtin,
        &[
            ":", "bg", "break", "caller", "continue", "dirs", "disown", "enable", "false", "fg",
            "for", "hash", "help", "jobs", "logout", "popd", "set", "shopt", "times", "true",
            "type", "ulimit", "umask",
        ],
    ),
    (
        Class::Check(builtins::evaluates),
        &[
            "[", "[[", "declare", "exit", "export", "getopts", "let", "local", "mapfile", "printf",
            "read", "readarray", "readonly", "return", "shift", "test", "typeset", "unset", "wait",
        ],
    ),
    (
        Class::Launcher,
        &[
            "builtin", "eval", "exec", "nice", "nohup", "setsid", "stdbuf", "timeout", "trap",
            "watch",
        ],
    ),
    (Class::Check(builtins::cd), &["cd", "pushd"]),
    (Class::Check(builtins::command), &["command"]),
    (Class::Check(files::tee), &["tee"]),
    (Class::Check(files::copy), &["cp", "install"]),
    (Class::Check(files::relocate), &["ln", "mv"]),
    (Class::Check(files::remove), &["rm"]),
    (
        Class::Check(files::create),
        &["chmod", "mkdir", "rmdir", "touch", "truncate"],
    ),
    (Class::Check(text::sort), &["sort"]),
    (Class::Check(text::second_operand), &["uniq", "xxd"]),
    (Class::Check(text::split), &["csplit", "split"]),
    (
        Class::Check(text::output_option),
        &["iconv", "shuf", "tree"],
    ),
    (Class::Check(text::file), &["file"]),
    (Class::Check(text::date), &["date"]),
    (Class::Check(text::hostname), &["hostname"]),
    (Class::Check(text::searcher), &["fd", "fdfind", "rg"]),
    (Class::Check(super::sed::judge), &["sed"]),
    (
        Class::Check(super::awk::judge),
        &["awk", "gawk", "mawk", "nawk"],
    ),
    (Class::Check(archive::tar), &["tar"]),
    (Class::Check(archive::zip), &["zip"]),
    (Class::Check(archive::unzip), &["unzip"]),
    (
        Class::Check(archive::compress),
        &[
            "brotli", "bunzip2", "bzip2", "compress", "gunzip", "gzip", "lz4", "lzma", "pigz",
            "uncompress", "unlzma", "unxz", "unzstd", "xz", "zstd", "zstdcat",
        ],
    ),
    (Class::Check(git::judge), &["git"]),
    (Class::Check(launch::find), &["find"]),
    (Class::Check(launch::xargs), &["xargs"]),
    (Class::Check(launch::env), &["env"]),
    (Class::Check(launch::traced), &["ltrace", "strace", "time"]),
    (Class::Check(launch::flock), &["flock"]),
    (Class::Check(launch::scheduled), &["ionice", "taskset"]),
    (
        Class::Check(interp::shell),
        &["ash", "bash", "dash", "ksh", "mksh", "posh", "sh", "zsh"],
    ),
    (
        Class::Check(interp::python),
        &[
            "ipython", "ipython3", "pypy", "pypy3", "python", "python2", "python3",
        ],
    ),
    (
        Class::Check(interp::interpreter),
        &[
            "R", "Rscript", "clojure", "dart", "elixir", "erl", "escript", "fish", "groovy",
            "guile", "irb", "java", "jshell", "julia", "kotlin", "lua", "luajit", "node", "nodejs",
            "osascript", "perl", "php", "powershell", "pwsh", "racket", "ruby", "runghc", "sbcl",
            "scala", "swift", "tclsh", "wish",
        ],
    ),
    (Class::Check(openssl::openssl), &["openssl"]),
    (Class::Check(launch::helper), &["diff3", "nm", "sdiff"]),
    (Class::Check(packages::package_query), &["dpkg", "rpm"]),
    (
        Class::Code("runs the build recipes of the project, which the engine cannot read"),
        &[
            "ant", "bazel", "bazelisk", "buck", "cmake", "ctest", "gmake", "gradle", "just",
            "make", "meson", "mvn", "ninja", "rake", "sbt", "scons", "task",
        ],
    ),
    (
        Class::Code("runs the project's tests, which the engine cannot read"),
        &[
            "behave", "jest", "mocha", "nox", "phpunit", "py.test", "pytest", "rspec", "tox",
            "vitest",
        ],
    ),
    (
        Class::Code("compiles code, loading plugins and helper programs the engine cannot vet"),
        &[
            "c++", "cc", "clang", "clang++", "g++", "gcc", "javac", "rustc", "tsc",
        ],
    ),
    (
        Class::Code("an editor, which can run commands the engine cannot see"),
        &[
            "ed", "emacs", "ex", "hx", "joe", "kak", "micro", "nano", "nvim", "pico", "vi", "view",
            "vim", "vimdiff",
        ],
    ),
    (
        Class::Code("runs commands or scripts of its own that the engine cannot read"),
        &[
            "compgen", "complete", "duckdb", "entr", "expect", "gdb", "hyperfine", "lldb",
            "nodemon", "parallel", "perf", "sqlite3", "valgrind", "watchexec",
        ],
    ),
    (
        Class::Fixed(Tier::High, "runs a shell script the engine cannot read"),
        &[".", "source"],
    ),
    (
        Class::Fixed(
            Tier::High,
            "changes namespaces, the root folder, ownership or privileges",
        ),
        &[
            "capsh", "chgrp", "chown", "chroot", "nsenter", "setpriv", "unshare",
        ],
    ),
    (
        Class::Fixed(Tier::High, "starts a session that outlives the command"),
        &["byobu", "screen", "tmux"],
    ),
    (
        Class::Fixed(Tier::Medium, "signals or reschedules other processes"),
        &["kill", "killall", "pkill", "renice"],
    ),
    (
        Class::Fixed(Tier::Medium, "changes files named inside its input"),
        &["cpio", "patch"],
    ),
    (
        Class::Fixed(Tier::Medium, "records a terminal session to a file"),
        &["script"],
    ),
    (
        Class::Fixed(Tier::Critical, NETWORK),
        &[
            "aria2c", "autossh", "aws", "axel", "az", "buildah", "bzr", "cloudflared", "cqlsh",
            "ctr", "curl", "curlie", "cvs", "dig", "docker", "doctl", "drill", "elinks", "firebase",
            "firefox", "flyctl", "fossil", "ftp", "gcloud", "gh", "git-lfs", "glab",
            "google-chrome", "gsutil", "helm", "heroku", "hg", "host", "hping3", "http", "https",
            "httpie", "hub", "iperf", "iperf3", "kubectl", "lftp", "links", "lxc", "lynx", "mail",
            "mailx", "mariadb", "masscan", "mongo", "mongosh", "mosh", "msmtp", "mtr", "mutt",
            "mysql", "nc", "ncat", "nerdctl", "netcat", "netlify", "ngrok", "nmap", "nping",
            "nslookup", "nsupdate", "openvpn", "ping", "ping6", "podman", "proxychains",
            "proxychains4", "psql", "pulumi", "rclone", "redis-cli", "rsync", "s3cmd", "scp",
            "sendmail", "sensible-browser", "sftp", "skopeo", "smbclient", "socat", "sqlcmd", "ssh",
            "ssh-add", "ssh-agent", "ssh-copy-id", "ssh-keyscan", "sshfs", "sshpass", "svn",
            "swaks", "tailscale", "telnet", "terraform", "tftp", "tofu", "tor", "torify",
            "torsocks", "traceroute", "traceroute6", "tracepath", "vagrant", "vercel", "virsh",
            "w3m", "websocat", "wg", "wg-quick", "wget", "whois", "wscat", "www-browser",
            "x-www-browser", "xdg-open", "xh", "youtube-dl", "yt-dlp",
        ],
    ),
    (
        Class::Fixed(Tier::Critical, "downloads and runs a package"),
        &["bunx", "npx", "pnpx", "uvx"],
    ),
    (
        Class::Fixed(Tier::Critical, "installs packages from the network"),
        &["cpan", "cpanm", "easy_install"],
    ),
    (
        Class::Fixed(
            Tier::Critical,
            "runs any of its applets, network tools included",
        ),
        &["busybox", "toybox"],
    ),
    (
        Class::Fixed(Tier::Critical, "changes privileges"),
        &["doas", "pkexec", "runuser", "su", "sudo"],
    ),
    (
        Class::Fixed(Tier::Critical, "formats, overwrites or wipes disks"),
        &[
            "blkdiscard", "cryptsetup", "dd", "debugfs", "fdisk", "fsck", "hdparm", "mke2fs",
            "mkfs", "mkswap", "parted", "sfdisk", "shred", "wipefs",
        ],
    ),
    (
        Class::Fixed(Tier::Critical, "administers the system"),
        &[
            "chattr", "chpasswd", "groupadd", "groupdel", "halt", "insmod", "ip6tables", "iptables",
            "losetup", "modprobe", "mount", "nft", "passwd", "poweroff", "reboot", "rmmod",
            "setcap", "shutdown", "swapoff", "swapon", "sysctl", "telinit", "umount", "useradd",
            "userdel", "usermod", "visudo",
        ],
    ),
    (
        Class::Fixed(
            Tier::Critical,
            "runs commands outside the sandbox, as a service or on a schedule",
        ),
        &[
            "at", "batch", "crontab", "launchctl", "machinectl", "service", "systemctl",
            "systemd-run",
        ],
    ),
    (Class::Manager(&packages::NPM), &["npm"]),
    (Class::Manager(&packages::YARN), &["yarn"]),
    (Class::Manager(&packages::PNPM), &["pnpm"]),
    (Class::Manager(&packages::BUN), &["bun"]),
    (Class::Manager(&packages::DENO), &["deno"]),
    (
        Class::Manager(&packages::PIP),
        &["pip", "pip2", "pip3", "pipx", "uv"],
    ),
    (Class::Manager(&packages::CARGO), &["cargo"]),
    (Class::Manager(&packages::APT_CACHE), &["apt-cache"]),
    (Class::Manager(&packages::RUSTUP), &["rustup"]),
    (Class::Manager(&packages::GO), &["go"]),
    (Class::Manager(&packages::GEM), &["bundle", "bundler", "gem"]),
    (
        Class::Manager(&packages::PACKAGES),
        &[
            "cabal", "composer", "conan", "conda", "dotnet", "hatch", "luarocks", "mamba",
            "micromamba", "mix", "nimble", "nuget", "opam", "pdm", "pipenv", "pixi", "poetry",
            "rye", "spack", "stack", "vcpkg",
        ],
    ),
    (
        Class::Manager(&packages::SYSTEM_PACKAGES),
        &[
            "apk", "apt", "apt-get", "aptitude", "brew", "choco", "dnf", "emerge", "flatpak",
            "guix", "microdnf", "nix", "nix-env", "opkg", "pacman", "paru", "pkg", "port", "scoop",
            "snap", "winget", "xbps-install", "yay", "yum", "zypper",
        ],
    ),
];

/// Names judged as their base name when they carry a version suffix (`python3.12`).
#[rustfmt::skip]
const VERSIONED: &[&str] = &[
    "erl", "gem", "guile", "irb", "lua", "luajit", "node", "perl", "php", "pip", "pip2", "pip3",
    "pypy", "pypy3", "python", "python2", "python3", "ruby", "tclsh", "wish",
];

/// Families written `base.kind` (`mkfs.ext4`).
const FAMILIES: &[&str] = &["fsck", "mkfs", "mount"];

type Table = HashMap<&'static str, Class, BuildHasherDefault<Fnv>>;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table::default();
        for (class, names) in GROUPS {
            for name in *names {
                t.insert(name, *class);
            }
        }
        t
    })
}

/// How `name` (a program's file name) is judged, if the engine knows it.
pub(crate) fn lookup(name: &str) -> Option<&'static Class> {
    let t = table();
    if let Some(class) = t.get(name) {
        return Some(class);
    }
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if base.len() < name.len() && VERSIONED.contains(&base) {
        return t.get(base);
    }
    let (family, _) = name.split_once('.')?;
    FAMILIES.contains(&family).then(|| t.get(family)).flatten()
}

/// True when `word` names a program that only reads or prints, whatever its arguments, so
/// running it on arguments the engine cannot see (`xargs`, `find -exec`) changes nothing.
pub(crate) fn is_read_only(word: &Word) -> bool {
    word.literal && !word.text.contains('/') && matches!(lookup(&word.text), Some(Class::Read(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_in_one_group_only() {
        let mut seen = std::collections::HashSet::new();
        for (_, names) in GROUPS {
            for name in *names {
                assert!(seen.insert(*name), "{name} is listed twice");
            }
        }
        for name in VERSIONED.iter().chain(FAMILIES) {
            assert!(seen.contains(name), "{name} has no group");
        }
    }

    #[test]
    fn versions_and_families_map_to_their_base_only_where_allowed() {
        assert!(matches!(lookup("python3.12"), Some(Class::Check(_))));
        assert!(matches!(
            lookup("mkfs.ext4"),
            Some(Class::Fixed(Tier::Critical, _))
        ));
        assert!(lookup("ls2").is_none(), "a suffix never makes a name safe");
        assert!(lookup("cat.sh").is_none());
        assert!(lookup("frobnicate").is_none());
    }
}
