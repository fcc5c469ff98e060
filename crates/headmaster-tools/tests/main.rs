//! Integration tests of the tool executors against real components: a real directory tree
//! with links, pipes and hard links; HTTP servers on loopback; an SMTP server (Python's
//! aiosmtpd) on loopback.

mod email;
mod files;
mod http;
mod secrets;
mod support;
