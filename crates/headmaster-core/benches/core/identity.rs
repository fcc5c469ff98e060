//! Issue 2: how long a sign-in takes. The Argon2id verification is the point of the cost (it is
//! what makes guessing expensive), so the whole `sign_in` — user lookup through the blind
//! index, the verification, the session row and the audit append — is timed, next to the bare
//! Argon2id verification for attribution.

use std::time::{Duration, Instant};

use headmaster_core::identity::password::{
    hash_password, verify_password, ARGON2_M_KIB, ARGON2_P, ARGON2_T,
};

use crate::fixture::{secret, sign_in, Bench, ADMIN, PASSWORD};
use crate::stats::{verdict, Summary};
use crate::Scale;

/// The target for a sign-in.
const TARGET: Duration = Duration::from_millis(250);

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let password = secret(PASSWORD);
    let phc = hash_password(&password);
    // One of each first, so that page faults of the Argon2 memory are not in the first sample.
    assert!(verify_password(&password, &phc));
    sign_in(&bench.instance, ADMIN).await;

    let mut bare = Vec::with_capacity(scale.sign_ins);
    let mut whole = Vec::with_capacity(scale.sign_ins);
    for _ in 0..scale.sign_ins {
        let started = Instant::now();
        assert!(verify_password(&password, &phc));
        bare.push(started.elapsed());
        let started = Instant::now();
        let session = sign_in(&bench.instance, ADMIN).await;
        whole.push(started.elapsed());
        assert_eq!(session.username, ADMIN);
    }
    let bare = Summary::of(&mut bare);
    let whole = Summary::of(&mut whole);
    println!(
        "Argon2id verify alone (m={} MiB, t={ARGON2_T}, p={ARGON2_P}): {}",
        ARGON2_M_KIB / 1024,
        bare.ms()
    );
    println!(
        "sign_in (lookup + Argon2id verify + session + audit append): {}; {}",
        whole.ms(),
        verdict(whole.median <= TARGET, "median ≤ 250 ms")
    );
}
