//! Issue 3: seal+open throughput against raw AES-256-GCM in the same run, and the time to
//! unlock a passphrase-protected installation.
//!
//! Five ways of encrypting then decrypting the same plaintext, interleaved batch by batch so
//! that all see the same machine load:
//! - `ScopeKeys::seal_now` + `ScopeKeys::open`: what the core's writers call (key version
//!   lookup and the encryption budget counter, then the sealed format);
//! - async `Vault::seal` / `Vault::open`: the same behind the cached key lookup;
//! - `seal_with` / `open_with`: the sealed format alone (header, AAD encoding binding scope,
//!   table, column and row, a cipher instance per value, an OS-random nonce);
//! - raw `aes-gcm` building the cipher per value and authenticating the same AAD bytes: the
//!   cryptographic work the format does, without its bookkeeping;
//! - raw `aes-gcm` with the cipher built once, no AAD, an OS-random nonce: the floor, against
//!   which the ratio is given.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use headmaster_core::vault::keys::Key256;
use headmaster_core::vault::protect::derive_kek;
use headmaster_core::vault::seal::{open_with, seal_with, Aad, KeyRef};
use headmaster_core::vault::KdfParams;
use rand::RngCore;

use crate::fixture::{secret, Bench, PASSPHRASE};
use crate::stats::{per_second, Summary};
use crate::Scale;

/// Timed batches per method and size.
const BATCHES: usize = 7;
/// Seals between two `Vault::keys` calls: the keys reserve encryptions in blocks and must be
/// asked again before a block runs out, as the core does before every write.
const CHUNK: usize = 2_000;

/// Runs the suite.
pub async fn run(scale: Scale) {
    let bench = Bench::new(headmaster_core::clock::system()).await;
    let scope = bench.ws.to_string();
    for size in [256usize, 4096] {
        let iterations = if size == 256 {
            scale.seal_round_trips
        } else {
            scale.seal_round_trips / 16
        };
        throughput(&bench, &scope, size, iterations).await;
    }
    unlock(&bench, scale.unlocks).await;
}

async fn throughput(bench: &Bench, scope: &str, size: usize, iterations: usize) {
    let mut plaintext = vec![0u8; size];
    rand::rngs::OsRng.fill_bytes(&mut plaintext);
    let vault = bench.instance.vault();
    let aad = Aad::new(
        scope,
        "memory",
        "value",
        "0193a1b2-0000-7000-8000-000000000001",
    );
    let format_key = Key256::random();
    let raw_key = *format_key.dangerously_expose();
    let raw = Aes256Gcm::new((&raw_key).into());
    // The AAD bytes the format authenticates for this value (length-prefixed tag, scope, table,
    // column, row and header), rebuilt to the same length.
    let aad_bytes = vec![0x5au8; 4 * 6 + 17 + scope.len() + 6 + 5 + 36 + 5];

    let mut times: [Vec<Duration>; 5] = Default::default();
    for _ in 0..BATCHES {
        let started = Instant::now();
        let mut done = 0;
        while done < iterations {
            let keys = vault.keys(scope).await.expect("keys");
            let version = KeyRef::DataKey(keys.current_version());
            for _ in 0..CHUNK.min(iterations - done) {
                let sealed = keys.seal_now(&aad, black_box(&plaintext)).expect("seal");
                black_box(keys.open(version, &aad, &sealed).expect("open"));
            }
            done += CHUNK;
        }
        times[0].push(started.elapsed());

        let started = Instant::now();
        for _ in 0..iterations {
            let sealed = vault.seal(&aad, black_box(&plaintext)).await.expect("seal");
            black_box(vault.open(&aad, &sealed).await.expect("open"));
        }
        times[1].push(started.elapsed());

        let started = Instant::now();
        for _ in 0..iterations {
            let sealed = seal_with(&format_key, KeyRef::DataKey(1), &aad, black_box(&plaintext));
            black_box(open_with(&format_key, &aad, &sealed).expect("open"));
        }
        times[2].push(started.elapsed());

        let started = Instant::now();
        for _ in 0..iterations {
            let cipher = Aes256Gcm::new((&raw_key).into());
            black_box(raw_round_trip(&cipher, black_box(&plaintext), &aad_bytes));
        }
        times[3].push(started.elapsed());

        let started = Instant::now();
        for _ in 0..iterations {
            black_box(raw_round_trip(&raw, black_box(&plaintext), &[]));
        }
        times[4].push(started.elapsed());
    }
    let bytes = (size * iterations) as u64;
    let [keys, via_async, format, keyed, raw] =
        times.map(|mut t| per_second(bytes, Summary::of(&mut t).median) / 1e6);
    let label = if size == 256 { "256 B" } else { "4 KiB" };
    println!(
        "seal+open {label} ({iterations} round trips × {BATCHES} batches, median batch, MB/s of plaintext): \
         ScopeKeys {keys:.0} ({:.0} k round trips/s), Vault (async) {via_async:.0}, \
         seal_with/open_with {format:.0}, raw aes-gcm + key schedule + same AAD {keyed:.0}, \
         raw aes-gcm {raw:.0}; ratio to raw: ScopeKeys {:.2}, Vault {:.2}",
        keys * 1e6 / size as f64 / 1e3,
        keys / raw,
        via_async / raw
    );
}

/// Encrypts and decrypts with an OS-random 96-bit nonce, as the vault does.
fn raw_round_trip(cipher: &Aes256Gcm, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let nonce = Nonce::from_slice(&nonce);
    let sealed = Payload {
        msg: plaintext,
        aad,
    };
    let ciphertext = cipher.encrypt(nonce, sealed).expect("encrypt");
    let opened = Payload {
        msg: &ciphertext,
        aad,
    };
    cipher.decrypt(nonce, opened).expect("decrypt")
}

async fn unlock(bench: &Bench, unlocks: usize) {
    let params = KdfParams::generate();
    let mut derive = Vec::with_capacity(unlocks);
    let mut opens = Vec::with_capacity(unlocks);
    for _ in 0..unlocks {
        let started = Instant::now();
        black_box(derive_kek(&secret(PASSPHRASE), &params).expect("derive"));
        derive.push(started.elapsed());
        let started = Instant::now();
        let instance = bench.open_again().await;
        opens.push(started.elapsed());
        assert_eq!(instance.id(), bench.instance.id());
    }
    println!(
        "Argon2id KEK derivation alone (m={} MiB, t={}, p={}): {}",
        params.m_kib / 1024,
        params.t,
        params.p,
        Summary::of(&mut derive).ms()
    );
    println!(
        "passphrase unlock (Instance::open: KDF + KEK check + device key): {}",
        Summary::of(&mut opens).ms()
    );
}
