//! Archivers and compressors: where they write, and the options that run other programs.
//!
//! Creating or listing an archive inside the workspace is low. Extracting one is medium: the
//! names written come from inside the archive, which the engine cannot read (it may hold a
//! `.git/config`). `tar` options that run a program (`--to-command`, `-I`, `-F`,
//! `--checkpoint-action`, …) are high, and an archive named `host:file` is fetched over the
//! network unless `--force-local` says otherwise.

use super::options::{long_is, unseen, walk, Item, Spec, Val};
use super::{Call, Finding, Why};
use crate::tier::Tier;

#[rustfmt::skip]
const TAR: Spec = Spec {
    short: "bCfFgHIKLNTVX",
    short_attached: "",
    long: &[
        "file", "directory", "to-command", "use-compress-program", "checkpoint-action",
        "info-script", "new-volume-script", "rsh-command", "rmt-command", "files-from",
        "exclude-from", "listed-incremental", "blocking-factor", "format", "label", "newer",
        "after-date", "owner", "group", "mode", "mtime", "transform", "xform", "exclude",
        "index-file", "volno-file", "tape-length", "starting-file", "suffix", "record-size",
        "strip-components",
    ],
};

/// Options of `tar` that start another program.
#[rustfmt::skip]
const TAR_RUNS: &[&str] = &[
    "to-command", "use-compress-program", "checkpoint-action", "info-script", "new-volume-script",
    "rsh-command", "rmt-command",
];

/// What `tar`'s options say. A mode given twice makes tar fail, so recording every mode it
/// could mean errs on the strict side; so does reading an abbreviated long option as every
/// option it abbreviates, except those that make a mode safer (`--to-stdout`,
/// `--force-local`), which count only when written out.
#[derive(Default)]
struct TarRead<'c> {
    creates: bool,
    extracts: bool,
    archive: Option<Val<'c>>,
    dir: Option<Val<'c>>,
    written: Option<Val<'c>>,
    runs: bool,
    computed: bool,
    stdout: bool,
    absolute: bool,
    force_local: bool,
}

impl<'c> TarRead<'c> {
    fn letter(&mut self, letter: char, value: Option<Val<'c>>) {
        match letter {
            'c' | 'r' | 'u' | 'A' => self.creates = true,
            'x' => self.extracts = true,
            'f' => self.archive = value,
            'C' => self.dir = value,
            'g' => self.written = value,
            'I' | 'F' => self.runs = true,
            'O' => self.stdout = true,
            'P' => self.absolute = true,
            _ => {}
        }
    }

    fn long(&mut self, name: &str, value: Option<Val<'c>>) {
        if TAR_RUNS.iter().any(|r| long_is(name, r)) {
            self.runs = true;
        }
        let is = |option: &str| long_is(name, option);
        if [
            "create",
            "append",
            "update",
            "catenate",
            "concatenate",
            "delete",
        ]
        .into_iter()
        .any(is)
        {
            self.creates = true;
        }
        if is("extract") || is("get") {
            self.extracts = true;
        }
        if is("file") {
            self.archive = value;
        }
        if is("directory") {
            self.dir = value;
        }
        if is("listed-incremental") || is("index-file") {
            self.written = value;
        }
        if is("absolute-names") {
            self.absolute = true;
        }
        match name {
            "to-stdout" => self.stdout = true,
            "force-local" => self.force_local = true,
            _ => {}
        }
    }
}

/// `tar`, in both its dashed (`-czf`) and its old (`czf`) forms.
pub(crate) fn tar<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut read = TarRead::default();
    let mut rest = c.args;
    if let Some(first) = c.args.first().filter(|w| {
        w.literal && !w.text.is_empty() && w.text.bytes().all(|b| b.is_ascii_alphabetic())
    }) {
        // Old style: the value of each letter that takes one is the next word, in order.
        let mut next = 1;
        for letter in first.text.chars() {
            let value = if TAR.short.contains(letter) {
                next += 1;
                c.args.get(next - 1).map(|w| Val {
                    text: &w.text,
                    literal: w.literal,
                })
            } else {
                None
            };
            read.letter(letter, value);
        }
        rest = c.args.get(next..).unwrap_or(&[]);
    }
    walk(rest, &TAR, |item| match item {
        Item::Short(letter, value) => read.letter(letter, value),
        Item::Long(n, value) => read.long(n, value),
        Item::Computed(_) => read.computed = true,
        Item::Operand(_) => {}
    });
    judge_tar(name, &read)
}

fn judge_tar<'c>(name: &'c str, read: &TarRead<'c>) -> Finding<'c> {
    let mut worst = Finding::low(name, "lists or creates archives inside the workspace");
    if read.runs {
        worst = worst.or(Finding::says(
            Tier::High,
            name,
            "runs a program given in its options",
        ));
    }
    if read.computed {
        worst = worst.or(Finding::says(
            Tier::High,
            name,
            "has arguments that may turn into options at run time, which could run programs",
        ));
    }
    if let Some(a) = read.archive.filter(|a| !read.force_local && remote(a)) {
        worst = worst.or(Finding::new(
            Tier::Critical,
            name,
            Why::Names("uses the remote archive", a.text, " over the network"),
        ));
    }
    if let Some(v) = read.written {
        worst = worst.or(write(name, "writes to", v));
    }
    if let Some(a) = read.archive.filter(|_| read.creates) {
        worst = worst.or(write(name, "writes the archive", a));
    }
    if read.extracts && !read.stdout {
        worst = worst.or(Finding::says(
            Tier::Medium,
            name,
            "extracts files named inside the archive, which the engine cannot read",
        ));
        if let Some(d) = read.dir {
            worst = worst.or(write(name, "extracts into", d));
        }
        if read.absolute {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "extracts to the absolute paths stored in the archive",
            ));
        }
    }
    worst
}

/// GNU tar reads an archive named `host:file` (a colon before any slash) through rsh.
fn remote(archive: &Val<'_>) -> bool {
    archive.literal
        && archive
            .text
            .split_once(':')
            .is_some_and(|(host, _)| !host.contains('/'))
}

fn write<'c>(program: &'c str, verb: &'static str, v: Val<'c>) -> Finding<'c> {
    let at = v.place();
    Finding::new(at.write_tier(), program, Why::Path(verb, v.text, at))
}

/// `zip ARCHIVE FILE…`: the archive is written. Testing it (`-T`, and `-TT CMD`, which names
/// the program to test with) is high: the option letters alone do not tell the two apart.
pub(crate) fn zip<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let mut worst = Finding::low(name, "creates archives inside the workspace");
    let spec = Spec {
        short: "bntPZsO",
        short_attached: "",
        long: &["output-file", "unzip-command"],
    };
    let mut archive = None;
    walk(c.args, &spec, |item| match item {
        Item::Short('T', _) | Item::Computed(_) => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "may run the test program named in its options",
            ));
        }
        Item::Long(n, _) if long_is(n, "unzip-command") => {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "runs the test program it is given",
            ));
        }
        Item::Short('O', Some(v)) => worst = worst.or(write(name, "writes the archive", v)),
        Item::Long(n, Some(v)) if long_is(n, "output-file") => {
            worst = worst.or(write(name, "writes the archive", v));
        }
        Item::Operand(w) if archive.is_none() => {
            archive = Some(w);
            worst = worst.or(Finding::write(name, "writes the archive", w));
        }
        _ => {}
    });
    worst
}

/// `unzip`: listing and printing are low, extracting medium, into a folder outside high.
pub(crate) fn unzip<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = Spec {
        short: "d",
        short_attached: "",
        long: &[],
    };
    let mut lists = false;
    let mut dir = None;
    let mut computed = false;
    walk(c.args, &spec, |item| match item {
        Item::Short('l' | 'v' | 't' | 'Z' | 'p' | 'c' | 'z', _) => lists = true,
        Item::Short('d', Some(v)) => dir = Some(v),
        Item::Computed(_) => computed = true,
        _ => {}
    });
    if computed {
        return Finding::says(
            Tier::High,
            name,
            "has arguments known only at run time (a folder to extract into?)",
        );
    }
    if lists {
        return Finding::low(name, "lists or prints an archive");
    }
    let worst = Finding::says(
        Tier::Medium,
        name,
        "extracts files named inside the archive, which the engine cannot read",
    );
    match dir {
        Some(d) => worst.or(write(name, "extracts into", d)),
        None => worst,
    }
}

/// `gzip`, `xz`, `zstd`, …: compressing a file replaces it with its compressed form beside
/// it, so every operand is written unless the output goes to standard output.
pub(crate) fn compress<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let name = c.name;
    let spec = Spec {
        short: "So",
        short_attached: "",
        long: &["suffix", "output-dir-flat", "output-dir-mirror"],
    };
    let mut stdout = false;
    walk(c.args, &spec, |item| match item {
        Item::Short('c' | 'l' | 't', _) => stdout = true,
        Item::Long("stdout" | "to-stdout" | "list" | "test", _) => stdout = true,
        _ => {}
    });
    let mut worst = Finding::low(name, "compresses or expands files inside the workspace");
    walk(c.args, &spec, |item| match item {
        Item::Short('o', Some(v)) => worst = worst.or(write(name, "writes to", v)),
        Item::Long(n, Some(v)) if n.starts_with("output-dir") => {
            worst = worst.or(write(name, "writes into", v));
        }
        Item::Computed(w) => worst = worst.or(unseen(name, w)),
        Item::Operand(w) if !stdout => {
            worst = worst.or(Finding::write(name, "compresses or expands", w));
        }
        _ => {}
    });
    worst
}
