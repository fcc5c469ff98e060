//! Shared test fixtures: loopback HTTP servers, the SMTP sink, a scripted name resolver and a
//! credential set.

pub mod http_server;
pub mod smtp;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use headmaster_tools::http::{LookupFuture, NameResolver};
use headmaster_tools::{CredentialSet, SecretValue};

/// How long any wait on a condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// A resolver answering from a fixed table; unknown names fail like NXDOMAIN.
#[derive(Debug, Default)]
pub struct ScriptedResolver {
    names: HashMap<String, Vec<IpAddr>>,
}

impl ScriptedResolver {
    /// Maps `name` to `addrs`.
    pub fn with(mut self, name: &str, addrs: &[&str]) -> Self {
        let addrs = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.names.insert(name.to_owned(), addrs);
        self
    }
}

impl NameResolver for ScriptedResolver {
    fn lookup<'a>(&'a self, host: &'a str, _port: u16) -> LookupFuture<'a> {
        let answer = self.names.get(host).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("no such name {host}"))
        });
        Box::pin(async move { answer })
    }
}

/// A credential set with the given name/value pairs.
pub fn credentials(pairs: &[(&str, &str)]) -> CredentialSet {
    let mut set = CredentialSet::new();
    for (name, value) in pairs {
        set.insert(*name, SecretValue::new((*value).to_owned()));
    }
    set
}

/// A loopback port on which nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
