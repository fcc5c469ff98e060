//! The CLI's stored session: the bearer token, sealed under the instance data key, in a file
//! readable only by its owner. A copied file is useless without the KEK.

use std::io::Write;

use super::session::SessionToken;
use crate::error::{Error, Result};
use crate::instance::Instance;
use crate::store::StoreError;
use crate::vault::keys::SecretBytes;
use crate::vault::seal::Aad;
use crate::vault::{VaultError, INSTANCE_SCOPE};

fn aad() -> Aad<'static> {
    Aad::new(INSTANCE_SCOPE, "cli-session", "token", "1")
}

impl Instance {
    /// Stores `token` for later CLI invocations.
    pub async fn store_cli_token(&self, token: &SessionToken) -> Result<()> {
        let sealed = self
            .vault
            .seal(&aad(), token.dangerously_expose().as_bytes())
            .await?;
        let path = self.layout.cli_session();
        let io = |e: std::io::Error| {
            Error::Store(StoreError::Directory {
                path: path.display().to_string(),
                reason: format!("cannot write the session file: {e}"),
            })
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io)?;
        file.write_all(&sealed).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// The stored CLI token, if any (an unreadable file counts as none).
    pub async fn load_cli_token(&self) -> Result<Option<SessionToken>> {
        let Ok(sealed) = std::fs::read(self.layout.cli_session()) else {
            return Ok(None);
        };
        match self.vault.open(&aad(), &sealed).await {
            Ok(plain) => {
                let plain = SecretBytes::new(plain);
                Ok(String::from_utf8(plain.dangerously_expose().to_vec())
                    .ok()
                    .map(SessionToken::from_string))
            }
            Err(VaultError::Decrypt | VaultError::UnknownKeyVersion(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the stored CLI token.
    pub fn clear_cli_token(&self) -> Result<()> {
        match std::fs::remove_file(self.layout.cli_session()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::Store(StoreError::Directory {
                path: self.layout.cli_session().display().to_string(),
                reason: format!("cannot remove the session file: {e}"),
            })),
        }
    }
}
