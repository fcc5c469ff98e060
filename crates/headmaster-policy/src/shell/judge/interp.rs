//! Shells and interpreters: a shell given a command string is a launcher (the parser reads
//! the string); a script file, inline code, a module or a program read from input is code
//! the engine cannot read (high); a module or server that serves or fetches over the network
//! is critical.

use super::options::asks_only_for_info;
use super::{Call, Finding, Why};
use crate::shell::Word;
use crate::tier::Tier;

/// `sh -c STRING` is a launcher (the parser reads the string); a shell reading a script file
/// or its input runs code the engine cannot read.
pub(crate) fn shell<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    if asks_only_for_info(args) {
        return Finding::low(name, "prints its version or help");
    }
    let mut i = 0;
    while let Some(w) = args.get(i).filter(|w| w.literal) {
        let t = w.text.as_str();
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if t.len() < 2 || !(t.starts_with('-') || t.starts_with('+')) {
            break;
        }
        if t.starts_with('-') && !t.starts_with("--") && t.contains('c') {
            return Finding::low(name, "runs the command string it is given");
        }
        i += if !t.starts_with("--") && t.contains(['o', 'O']) {
            2
        } else {
            1
        };
    }
    match args.get(i) {
        Some(script) => Finding::new(
            Tier::High,
            name,
            Why::Names(
                "runs the script",
                &script.text,
                ", which the engine cannot read",
            ),
        ),
        None => Finding::says(
            Tier::High,
            name,
            "runs commands read from its input, which the engine cannot see",
        ),
    }
}

/// Python modules that serve or fetch over the network.
#[rustfmt::skip]
const NETWORK_MODULES: &[&str] = &[
    "CGIHTTPServer", "SimpleHTTPServer", "ftplib", "http.client", "http.server", "pydoc", "smtpd",
    "smtplib", "socketserver", "telnetlib", "urllib.request", "webbrowser", "xmlrpc.server",
];

/// Python modules that install packages.
const INSTALL_MODULES: &[&str] = &["ensurepip", "pip", "pip3", "pipx", "poetry", "twine", "uv"];

/// `python`: `-c` inline code, `-m MODULE` (critical for servers and installers), a script.
pub(crate) fn python<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    let mut i = 0;
    let mut info = false;
    while let Some(w) = args.get(i) {
        i += 1;
        let t = w.text.as_str();
        if !w.literal {
            return runs_unseen(name, w);
        }
        match t {
            "--version" | "--help" | "-V" | "-VV" | "-h" => info = true,
            "-" => return reads_input(name),
            _ if t.starts_with("--") => {}
            _ if t.starts_with('-') => {
                for (at, ch) in t.char_indices().skip(1) {
                    let rest = &t[at + 1..];
                    match ch {
                        'c' => return inline(name),
                        'm' if rest.is_empty() => {
                            return args
                                .get(i)
                                .map_or_else(|| reads_input(name), |m| module(name, m));
                        }
                        'm' => return module_named(name, rest),
                        'W' | 'X' => {
                            i += usize::from(rest.is_empty());
                            break;
                        }
                        _ => {}
                    }
                }
            }
            _ => return script(name, t),
        }
    }
    if info {
        Finding::low(name, "prints its version or help")
    } else {
        reads_input(name)
    }
}

fn module<'c>(name: &'c str, word: &'c Word) -> Finding<'c> {
    if word.literal {
        module_named(name, &word.text)
    } else {
        runs_unseen(name, word)
    }
}

fn module_named<'c>(name: &'c str, module: &'c str) -> Finding<'c> {
    if NETWORK_MODULES.contains(&module) {
        Finding::new(
            Tier::Critical,
            name,
            Why::Names(
                "runs the module",
                module,
                ", which serves or fetches over the network",
            ),
        )
    } else if INSTALL_MODULES.contains(&module) {
        Finding::new(
            Tier::Critical,
            name,
            Why::Names(
                "runs the module",
                module,
                ", which installs packages from the network",
            ),
        )
    } else {
        Finding::new(
            Tier::High,
            name,
            Why::Names("runs the module", module, ", which the engine cannot read"),
        )
    }
}

fn inline(name: &str) -> Finding<'_> {
    Finding::says(Tier::High, name, "runs inline code the engine cannot read")
}

fn script<'c>(name: &'c str, file: &'c str) -> Finding<'c> {
    Finding::new(
        Tier::High,
        name,
        Why::Names("runs the script", file, ", which the engine cannot read"),
    )
}

fn reads_input(name: &str) -> Finding<'_> {
    Finding::says(
        Tier::High,
        name,
        "runs a program read from its input, which the engine cannot see",
    )
}

pub(crate) fn runs_unseen<'c>(name: &'c str, word: &'c Word) -> Finding<'c> {
    Finding::new(
        Tier::High,
        name,
        Why::Names("runs", &word.text, ", known only at run time"),
    )
}

/// Other interpreters: inline code or a script is high; PHP's built-in web server critical.
pub(crate) fn interpreter<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    if asks_only_for_info(args) {
        return Finding::low(name, "prints its version or help");
    }
    for w in args {
        let t = w.text.as_str();
        if !w.literal {
            return runs_unseen(name, w);
        }
        if name.starts_with("php") && t.starts_with("-S") {
            return Finding::says(Tier::Critical, name, "starts a web server");
        }
        let cluster = t.starts_with('-') && !t.starts_with("--") && t.len() > 1;
        if matches!(t, "--eval" | "--print" | "-r" | "-c" | "-p")
            || (cluster
                && t[1..].bytes().all(|b| b.is_ascii_alphabetic())
                && t.contains(['e', 'E']))
        {
            return inline(name);
        }
        if !t.starts_with('-') {
            return script(name, t);
        }
    }
    reads_input(name)
}
