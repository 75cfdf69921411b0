//! The local target end to end: real function binaries under our Runtime API, the service started as a process
//! of its own, and the real AWS CLI as the client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod capabilities;
mod cli;
mod clock;
mod crash;
mod hardening;
mod oracle;
mod replay;
mod runtime;
mod support;
mod versions;
