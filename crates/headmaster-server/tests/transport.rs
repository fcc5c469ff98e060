//! The transport with stock tools: TLS 1.2 refused, TLS 1.3 accepted, the printed pin checked
//! by curl, HSTS on every answer, and a certificate replaced without a restart.

use std::process::Command;

use crate::support::{cli, ServerProcess};

fn s_client(port: u16, version: &str) -> (bool, String) {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            version,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn curl(base: &str, path: &str, pin: &str) -> (bool, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-i",
            "--insecure",
            "--pinnedpubkey",
            pin,
            &format!("{base}{path}"),
        ])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn tls_1_2_is_refused_and_1_3_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("d"), None, &[]);
    // s_client's exit status does not always reflect a failed handshake; its report does.
    let (_, text) = s_client(server.port, "-tls1_2");
    assert!(
        text.contains("Cipher is (NONE)"),
        "a TLS 1.2 handshake succeeded:\n{text}"
    );
    assert!(text.contains("alert protocol version"), "{text}");
    let (ok, text) = s_client(server.port, "-tls1_3");
    assert!(ok, "{text}");
    assert!(text.contains("New, TLSv1.3, Cipher is TLS_"), "{text}");
}

#[test]
fn the_printed_pin_is_what_curl_checks_and_every_answer_carries_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (ok, init_out, err) = cli(&["--data", data.to_str().unwrap(), "init"]);
    assert!(ok, "{err}");
    let server = ServerProcess::start(&data, None, &[]);
    assert!(
        init_out.contains(&server.pin),
        "init printed another pin:\n{init_out}"
    );

    let (ok, text) = curl(&server.base(), "/health", &server.pin);
    assert!(ok, "{text}");
    assert!(text.contains("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_lowercase()
            .contains("strict-transport-security: max-age=63072000; includesubdomains"),
        "{text}"
    );
    // Errors carry it too.
    let (ok, text) = curl(&server.base(), "/nothing-here", &server.pin);
    assert!(ok, "{text}");
    assert!(text.contains("HTTP/1.1 404"), "{text}");
    assert!(
        text.to_lowercase().contains("strict-transport-security"),
        "{text}"
    );
    assert!(text.contains("\"code\":\"not_found\""), "{text}");

    let other = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let (ok, text) = curl(&server.base(), "/health", other);
    assert!(!ok, "curl accepted another pin:\n{text}");
    assert!(!text.contains("HTTP/1.1 200"), "{text}");

    let (ok, status, _) = cli(&["--data", data.to_str().unwrap(), "init"]);
    assert!(ok);
    assert!(
        status.contains("initialised already") && status.contains(&server.pin),
        "{status}"
    );
}

#[test]
fn a_replaced_certificate_is_served_after_sighup_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let own = dir.path().join("own");
    std::fs::create_dir(&own).unwrap();
    let files = |n: &str| headmaster_server::tls::CertFiles {
        cert: own.join(format!("{n}.pem")),
        key: own.join(format!("{n}.key")),
    };
    headmaster_server::tls::make_self_signed(&files("first"), &["127.0.0.1".into()]).unwrap();
    headmaster_server::tls::make_self_signed(&files("second"), &["127.0.0.1".into()]).unwrap();
    let live = files("live");
    std::fs::copy(&files("first").cert, &live.cert).unwrap();
    std::fs::copy(&files("first").key, &live.key).unwrap();
    let mut server = ServerProcess::start(
        &data,
        None,
        &[
            "--cert",
            live.cert.to_str().unwrap(),
            "--key",
            live.key.to_str().unwrap(),
        ],
    );
    let first_pin = headmaster_server::tls::load(&files("first")).unwrap().pin;
    let second_pin = headmaster_server::tls::load(&files("second")).unwrap().pin;
    assert_eq!(server.pin, first_pin);
    assert!(curl(&server.base(), "/health", &first_pin).0);

    std::fs::copy(&files("second").cert, &live.cert).unwrap();
    std::fs::copy(&files("second").key, &live.key).unwrap();
    server.signal("-HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !curl(&server.base(), "/health", &second_pin).0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the new certificate was never served"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        !curl(&server.base(), "/health", &first_pin).0,
        "the old certificate is still served"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server restarted or died"
    );
}
