//! End-to-end tests of the deployer binary against real third-party tools (moto server, actionlint), compiled
//! into one test binary to keep link time down.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::case_sensitive_file_extension_comparisons,
    missing_docs
)]

mod cli;
mod conformance;
mod first_build;
mod history;
mod local;
mod moto;
mod readme;
mod running;
mod structure;
mod support;
mod testing;
mod toolkit;
mod watch;
mod workflow;
