//! Integration tests of headmaster-server over real TLS on loopback: the transport checked with
//! stock openssl and curl, enrollment and device authentication, and audit ingest against both
//! backends (SQLite and a throwaway PostgreSQL cluster) with the same suite.

/// Runs an `async fn(Backend)` once on SQLite and once on PostgreSQL, as `NAME::sqlite` and
/// `NAME::postgres`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(crate::support::Backend::Postgres).await
            }
        }
    )*};
}

mod access;
mod crash;
mod enroll;
mod full_disk;
mod ingest;
mod outage;
mod replicas;
mod siem;
mod sinks;
mod support;
mod sync;
mod sync_faults;
mod sync_trust;
mod transport;
