//! `openssl`, judged by its subcommand and the files its options write or load.

use super::interp::runs_unseen;
use super::{Call, Finding, Why};
use crate::tier::Tier;

/// `openssl` subcommands that connect.
const OPENSSL_NETWORK: &[&str] = &["cmp", "http", "ocsp", "s_client", "s_server", "s_time"];

/// `openssl` subcommands that work on local files.
#[rustfmt::skip]
const OPENSSL_LOCAL: &[&str] = &[
    "asn1parse", "base64", "ciphers", "cms", "crl", "crl2pkcs7", "dgst", "dhparam", "dsa",
    "dsaparam", "ec", "ecparam", "enc", "errstr", "gendsa", "genpkey", "genrsa", "help", "kdf",
    "list", "mac", "md5", "pkcs12", "pkcs7", "pkcs8", "pkey", "pkeyparam", "pkeyutl", "prime",
    "rand", "req", "rsa", "rsautl", "sha1", "sha256", "sha512", "smime", "speed", "spkac", "verify",
    "version", "x509",
];

/// Options of `openssl` subcommands whose value is a file they write.
#[rustfmt::skip]
const OPENSSL_WRITES: &[&str] = &[
    "-CAserial", "-certsout", "-keyout", "-out", "-signer", "-writerand",
];

/// Options of `openssl` subcommands that load code: engines, providers, and configuration
/// files, which can name either.
#[rustfmt::skip]
const OPENSSL_LOADS: &[&str] = &[
    "-config",
    "-engine",
    "-keygen_engine",
    "-provider",
    "-provider-path",
];

/// `openssl SUB`: network subcommands are critical, local ones low (the files they write
/// judged), loading an engine, a provider or a configuration file high, anything else high.
pub(crate) fn openssl<'c>(c: &mut Call<'c, '_>) -> Finding<'c> {
    let (name, args) = (c.name, c.args);
    let Some(sub) = args.first() else {
        return Finding::says(Tier::High, name, "reads commands from its input");
    };
    if !sub.literal {
        return runs_unseen(name, sub);
    }
    let s = sub.text.as_str();
    if OPENSSL_NETWORK.contains(&s) {
        return Finding::says(Tier::Critical, name, NETWORK).of(s);
    }
    if !OPENSSL_LOCAL.contains(&s) {
        return Finding::says(Tier::High, name, "a subcommand the engine does not know").of(s);
    }
    let mut worst = Finding::low(name, "works on local files").of(s);
    let mut ca = None;
    let mut serial = false;
    let mut rest = args[1..].iter();
    while let Some(w) = rest.next() {
        let t = w.text.as_str();
        if t == "-CA" {
            ca = rest.next();
        } else if OPENSSL_WRITES.contains(&t) {
            if let Some(file) = rest.next() {
                worst = worst.or(Finding::write(name, "writes to", file).of(s));
            }
        } else if OPENSSL_LOADS.contains(&t) {
            worst = worst.or(Finding::says(
                Tier::High,
                name,
                "loads code from an engine, a provider or a configuration file",
            )
            .of(s));
        } else if t == "-CAcreateserial" {
            serial = true;
        } else if t.contains("://") || w.may_be_option() {
            worst = worst.or(Finding::new(
                Tier::High,
                name,
                Why::Names(
                    "has the argument",
                    t,
                    ", which may name a remote resource or turn into an option at run time",
                ),
            )
            .of(s));
        }
    }
    // The serial-number file is created in the CA certificate's folder.
    match ca.filter(|_| serial) {
        Some(ca) => worst.or(Finding::write(name, "creates a serial file beside", ca).of(s)),
        None => worst,
    }
}

const NETWORK: &str = "network access";
