//! Refusals and failures of `email.send`.

/// Why `email.send` was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// The workspace has no SMTP settings.
    #[error("email.send is not configured for this workspace; an Admin sets host, port, tls and from with `headmaster tool config email.send …`")]
    NotConfigured,
    /// The message could not be built from the arguments and settings.
    #[error("the message could not be built: {message}")]
    InvalidMessage {
        /// What went wrong.
        message: String,
    },
    /// No SMTP session could be established (refused, unreachable, TLS failure).
    #[error("could not reach the SMTP server {server}: {message}; check the host, port and tls settings and that the server is running")]
    Connect {
        /// `host:port`.
        server: String,
        /// The explanation.
        message: String,
    },
    /// The server answered with an SMTP error (4xx or 5xx).
    #[error("the SMTP server refused the message with {code}: {message}")]
    Rejected {
        /// The SMTP reply code.
        code: String,
        /// The server's reply.
        message: String,
    },
    /// Delivery did not finish in time.
    #[error("the SMTP exchange did not complete within {limit_ms} ms; check the server or raise `timeout_ms`")]
    Timeout {
        /// The limit, in milliseconds.
        limit_ms: u64,
    },
}

impl EmailError {
    /// A stable code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            EmailError::NotConfigured => "email_not_configured",
            EmailError::InvalidMessage { .. } => "email_invalid_message",
            EmailError::Connect { .. } => "email_connect_failed",
            EmailError::Rejected { .. } => "email_rejected",
            EmailError::Timeout { .. } => "email_timeout",
        }
    }

    pub(crate) fn visit_text(&mut self, visit: &mut dyn FnMut(&mut String)) {
        match self {
            EmailError::NotConfigured | EmailError::Timeout { .. } => {}
            EmailError::InvalidMessage { message } => visit(message),
            EmailError::Connect { server, message } => {
                visit(server);
                visit(message);
            }
            EmailError::Rejected { code, message } => {
                visit(code);
                visit(message);
            }
        }
    }
}
