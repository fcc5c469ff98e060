//! The client half of the server's transport: rustls with TLS 1.3 only, and the server's
//! certificate trusted by its SPKI pin alone.
//!
//! The pin is the trust anchor: an on-prem server usually has a self-signed certificate, so a
//! CA check would either fail or be switched off. The verifier compares the SHA-256 of the
//! certificate's SubjectPublicKeyInfo with the pins the Admin gave at join (curl's
//! `sha256//<base64>` form, up to two so a certificate can roll over) during the handshake,
//! before any byte of a request is sent, and still checks the handshake signature, so only the
//! holder of the pinned key can complete it. Host name and validity dates are not the trust
//! decision here and are not checked. A mismatch is remembered so the caller can say which
//! pin the server presented.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// The SPKI pin of a certificate, as `sha256//<base64>`.
pub fn spki_pin(cert: &CertificateDer<'_>) -> Result<String, String> {
    let parsed = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| format!("the server's certificate is not X.509: {e:?}"))?;
    let spki = parsed.subject_public_key_info();
    Ok(format!(
        "sha256//{}",
        STANDARD.encode(Sha256::digest(spki.as_ref()))
    ))
}

/// Checks that `pin` has the `sha256//<base64 of 32 bytes>` form.
pub(crate) fn check_pin(pin: &str) -> Result<(), String> {
    let ok = pin
        .strip_prefix("sha256//")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .is_some_and(|digest| digest.len() == 32);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{pin:?} is not a certificate pin: expected sha256//<base64>, as `headmaster-server status` prints it"
        ))
    }
}

/// The pin a server presented when it matched none of ours (for the error message).
pub(crate) type SeenPin = Arc<Mutex<Option<String>>>;

#[derive(Debug)]
struct PinnedVerifier {
    pins: Vec<String>,
    algorithms: WebPkiSupportedAlgorithms,
    seen: SeenPin,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let pin = spki_pin(end_entity).map_err(rustls::Error::General)?;
        if self.pins.contains(&pin) {
            return Ok(ServerCertVerified::assertion());
        }
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(pin);
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::ApplicationVerificationFailure,
        ))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // Unreachable with a TLS 1.3-only configuration; refused should it ever be asked.
        Err(rustls::Error::General("TLS 1.2 is not accepted".into()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// An HTTPS client that speaks TLS 1.3 only and trusts exactly the servers holding a key
/// whose pin is in `pins`; the slot it returns holds the pin of a server that did not match.
pub(crate) fn pinned_client(pins: &[String]) -> (reqwest::Client, SeenPin) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let seen = SeenPin::default();
    let verifier = PinnedVerifier {
        pins: pins.to_vec(),
        algorithms: provider.signature_verification_algorithms,
        seen: seen.clone(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("the ring provider supports TLS 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("headmaster/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with a preconfigured rustls configuration builds");
    (client, seen)
}

#[cfg(test)]
mod tests {
    use super::check_pin;

    #[test]
    fn pins_must_be_sha256_of_32_bytes() {
        assert!(check_pin("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").is_ok());
        for bad in [
            "",
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "sha256//not base64",
            "sha256//AAAA",
        ] {
            let e = check_pin(bad).unwrap_err();
            assert!(e.contains("sha256//<base64>"), "{e}");
        }
    }
}
