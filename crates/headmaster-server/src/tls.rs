//! TLS: rustls with TLS 1.3 only, a self-signed certificate when none is given, the SPKI pin
//! that desktops and `curl --pinnedpubkey` check, and certificate reload without a restart.
//!
//! The protocol versions are fixed on the config builder, so no crate feature elsewhere in the
//! build (reqwest, lettre) can bring TLS 1.2 back. The certificate sits behind a resolver that
//! `reload` swaps atomically: connections already open keep the certificate they started with,
//! new handshakes get the new one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::Datelike as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};

use crate::keys::write_secret;

/// Why a certificate could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The files do not hold a usable certificate and key.
    #[error(
        "{path}: {why}; give a PEM certificate chain and its PEM private key (PKCS#8, SEC1 or RSA)"
    )]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// Making the self-signed certificate failed.
    #[error("could not make a self-signed certificate: {0}")]
    Generate(String),
}

/// Where the certificate and its key are read from.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key of the leaf.
    pub key: PathBuf,
}

/// Writes a new self-signed certificate for `names` (host names or IP addresses) to `files`.
pub fn make_self_signed(files: &CertFiles, names: &[String]) -> Result<(), TlsError> {
    let pair = rcgen::KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Headmaster server");
    // Valid from yesterday (clocks differ) for five years; desktops trust the pin, not the dates.
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    let (y, m, d) = (
        yesterday.year(),
        yesterday.month() as u8,
        yesterday.day() as u8,
    );
    params.not_before = rcgen::date_time_ymd(y, m, d);
    params.not_after = rcgen::date_time_ymd(y + 5, m, d.min(28));
    let cert = params
        .self_signed(&pair)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    write_secret(&files.key, pair.serialize_pem().as_bytes()).map_err(|e| TlsError::Format {
        path: files.key.display().to_string(),
        why: e.to_string(),
    })?;
    std::fs::write(&files.cert, cert.pem()).map_err(|source| TlsError::Io {
        path: files.cert.display().to_string(),
        source,
    })
}

/// A loaded certificate with its pin.
#[derive(Debug)]
pub struct LoadedCert {
    /// The certificate and signing key rustls serves.
    pub certified: Arc<CertifiedKey>,
    /// `sha256//<base64 of SHA-256 of the leaf's SubjectPublicKeyInfo>`, curl's pin format.
    pub pin: String,
}

/// Reads the certificate chain and key from `files`.
pub fn load(files: &CertFiles) -> Result<LoadedCert, TlsError> {
    let format = |path: &Path, why: String| TlsError::Format {
        path: path.display().to_string(),
        why,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format(&files.cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format(&files.cert, e.to_string()))?;
    let leaf = chain
        .first()
        .ok_or_else(|| format(&files.cert, "no certificate in the file".into()))?;
    let pin = spki_pin(leaf).map_err(|why| format(&files.cert, why))?;
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format(&files.key, e.to_string()))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| format(&files.key, e.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| {
        format(
            &files.key,
            format!("the key does not belong to the certificate: {e}"),
        )
    })?;
    Ok(LoadedCert {
        certified: Arc::new(certified),
        pin,
    })
}

/// The SPKI pin of a certificate in curl's `--pinnedpubkey` format.
pub fn spki_pin(cert: &CertificateDer<'_>) -> Result<String, String> {
    let parsed = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| format!("not an X.509 certificate: {e:?}"))?;
    let spki = parsed.subject_public_key_info();
    Ok(format!(
        "sha256//{}",
        STANDARD.encode(Sha256::digest(spki.as_ref()))
    ))
}

/// Serves whichever certificate was loaded last.
#[derive(Debug)]
pub struct ReloadingCert {
    files: CertFiles,
    current: RwLock<Arc<LoadedCert>>,
}

impl ReloadingCert {
    /// Loads the certificate from `files`.
    pub fn new(files: CertFiles) -> Result<Self, TlsError> {
        let loaded = load(&files)?;
        Ok(Self {
            files,
            current: RwLock::new(Arc::new(loaded)),
        })
    }

    /// Reads the files again and serves the new certificate to new connections. On error the old
    /// certificate stays in service.
    pub fn reload(&self) -> Result<String, TlsError> {
        let loaded = Arc::new(load(&self.files)?);
        let pin = loaded.pin.clone();
        *self.current.write().expect("certificate lock poisoned") = loaded;
        Ok(pin)
    }

    /// The pin of the certificate in service.
    pub fn pin(&self) -> String {
        self.current
            .read()
            .expect("certificate lock poisoned")
            .pin
            .clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .expect("certificate lock poisoned")
                .certified
                .clone(),
        )
    }
}

/// The rustls server configuration: TLS 1.3 only, HTTP/1.1, the reloading certificate.
pub fn server_config(cert: Arc<ReloadingCert>) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("the ring provider supports TLS 1.3")
        .with_no_client_auth()
        .with_cert_resolver(cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A rustls client configuration for the push sinks: TLS 1.3 only, the receiver's certificate
/// checked against `ca_pem` (PEM certificates) or, without it, the Mozilla roots.
pub fn client_config(ca_pem: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("the CA file is not PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the CA file holds an unusable certificate: {e}"))?;
            }
            if roots.is_empty() {
                return Err("the CA file holds no certificate".into());
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("the ring provider supports TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
