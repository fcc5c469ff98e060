//! The data directory: keys, the TLS certificate, and (by default) the SQLite database.
//!
//! ```text
//! <data>/keys/data.key       AES-256 data key, 0600      (seals what the database holds)
//! <data>/keys/signing.key    Ed25519 server key, 0600    (signs receipts)
//! <data>/keys/signing.pub    its OpenSSH public line
//! <data>/tls/cert.pem        self-signed certificate, made on first start
//! <data>/tls/key.pem         its key, 0600
//! <data>/server.db           the SQLite database, unless --database names another
//! ```
//! The directory is 0700. Back it up as a whole: the database without `keys/` opens nothing.

use std::fs;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::{Server, State};
use crate::keys::{DataKey, KeyError, ServerKey};
use crate::tls::{CertFiles, ReloadingCert, TlsError};

/// Why the data directory could not be prepared or opened.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A directory could not be made.
    #[error("cannot create {path}: {source}; check that the parent exists and is writable")]
    Dir {
        /// The directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database exists but its data key does not.
    #[error("{db} exists but its data key {key} is missing; restore keys/ from the backup of the data directory (a new key would not open the stored data)")]
    KeyMissing {
        /// The database file.
        db: String,
        /// The key file.
        key: String,
    },
    /// A key file.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The certificate.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The database.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The server's data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// What `init` made and what the server is.
#[derive(Debug)]
pub struct Identity {
    /// Pieces made now (empty when everything existed).
    pub created: Vec<&'static str>,
    /// The server key's fingerprint.
    pub fingerprint: String,
    /// The server key's OpenSSH public line.
    pub public_key: String,
    /// The TLS certificate's SPKI pin.
    pub pin: String,
}

impl DataDir {
    /// The directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$XDG_DATA_HOME/headmaster-server` (usually `~/.local/share/headmaster-server`).
    pub fn default_root() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("headmaster-server")
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The data key file.
    pub fn data_key(&self) -> PathBuf {
        self.root.join("keys/data.key")
    }

    /// The server key file.
    pub fn signing_key(&self) -> PathBuf {
        self.root.join("keys/signing.key")
    }

    /// The self-signed certificate's files.
    pub fn cert_files(&self) -> CertFiles {
        CertFiles {
            cert: self.root.join("tls/cert.pem"),
            key: self.root.join("tls/key.pem"),
        }
    }

    /// The SQLite database used when no `--database` is given.
    pub fn database_file(&self) -> PathBuf {
        self.root.join("server.db")
    }

    /// `sqlite://<data>/server.db`.
    pub fn default_database_url(&self) -> String {
        format!("sqlite://{}", self.database_file().display())
    }

    /// Makes whatever is missing (directories, keys, a self-signed certificate for `names`)
    /// and leaves the rest alone.
    pub fn init(
        &self,
        names: &[String],
        own_cert: Option<&CertFiles>,
    ) -> Result<Identity, DataError> {
        let mut created = Vec::new();
        for dir in [
            self.root.clone(),
            self.root.join("keys"),
            self.root.join("tls"),
        ] {
            if !dir.exists() {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&dir)
                    .map_err(|source| DataError::Dir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
            }
        }
        if !self.data_key().exists() {
            if self.database_file().exists() {
                return Err(DataError::KeyMissing {
                    db: self.database_file().display().to_string(),
                    key: self.data_key().display().to_string(),
                });
            }
            DataKey::create(&self.data_key())?;
            created.push("data key");
        }
        let server_key = if self.signing_key().exists() {
            ServerKey::load(&self.signing_key())?
        } else {
            created.push("server key");
            ServerKey::create(&self.signing_key())?
        };
        let cert = match own_cert {
            Some(files) => files.clone(),
            None => {
                let files = self.cert_files();
                if !files.cert.exists() {
                    crate::tls::make_self_signed(&files, names)?;
                    created.push("self-signed certificate");
                }
                files
            }
        };
        let pin = crate::tls::load(&cert)?.pin;
        Ok(Identity {
            created,
            fingerprint: server_key.fingerprint(),
            public_key: server_key.public_line(),
            pin,
        })
    }

    /// Opens the keys and the certificate and connects to `database`: the state `serve` runs on.
    pub async fn open(
        &self,
        database: &str,
        own_cert: Option<CertFiles>,
    ) -> Result<State, DataError> {
        let data_key = DataKey::load(&self.data_key())?;
        let server_key = ServerKey::load(&self.signing_key())?;
        let cert = Arc::new(ReloadingCert::new(
            own_cert.unwrap_or_else(|| self.cert_files()),
        )?);
        let store = crate::store::open(database).await?;
        let data_key = Arc::new(data_key);
        let server_key = Arc::new(server_key);
        let access =
            crate::access::AccessLog::start(store.clone(), data_key.clone(), server_key.clone());
        Ok(Arc::new(Server {
            store,
            data_key,
            server_key,
            cert,
            access,
            replica: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7()),
            feed_wake: tokio::sync::Notify::new(),
        }))
    }

    /// Opens only the database and the data key, for the admin commands.
    pub async fn open_store(
        &self,
        database: &str,
    ) -> Result<(Arc<dyn crate::store::Store>, DataKey), DataError> {
        let data_key = DataKey::load(&self.data_key())?;
        Ok((crate::store::open(database).await?, data_key))
    }

    /// The server's signing key, for the admin commands that sign (an access-log export).
    pub fn server_key(&self) -> Result<ServerKey, DataError> {
        Ok(ServerKey::load(&self.signing_key())?)
    }
}
