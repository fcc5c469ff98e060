//! Integration tests: real commands in the real sandbox on this machine (Linux with Landlock
//! ABI 6 or newer, run as root so that the uid drop and the PID namespace are exercised).
//! Every refusal is asserted on its effect (file absent, connection never accepted, process
//! gone) as well as on the command's status.

mod app_death;
mod environment;
mod filesystem;
mod fixture;
mod limits;
mod network;
mod output;
mod probe;
mod processes;
mod unprivileged;
