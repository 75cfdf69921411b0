//! Test-only hooks, compiled only with the `test-hooks` feature (a plain `cargo build` of the deployer has none of
//! this): they let the end-to-end tests stop `up` at one named safe point, so each Ctrl-C path is reached on purpose
//! rather than by timing.
//!
//! `DEPLOYER_TEST_PAUSE_AT=<point>`: when `up` reaches `<point>` it prints `test hook: paused at <point>` on stderr
//! and waits for Ctrl-C (at most [`PAUSE_LIMIT`], then carries on). The test sends SIGINT once it reads the line, so
//! the product's own signal handling sees a Ctrl-C that arrived exactly there. With
//! `DEPLOYER_TEST_HOLD_AFTER_CTRL_C=1` it keeps waiting after that Ctrl-C (as a slow clean-up call would), so only a
//! second Ctrl-C ends the run.

use std::time::Duration;

use crate::interrupt::Interrupt;

/// How long a paused point waits for the test's Ctrl-C.
const PAUSE_LIMIT: Duration = Duration::from_mins(2);

/// Pauses at `point` if the tests asked for it; a no-op otherwise.
pub(crate) async fn pause_at(point: &str, interrupt: &Interrupt) {
    if std::env::var("DEPLOYER_TEST_PAUSE_AT").ok().as_deref() != Some(point) {
        return;
    }
    eprintln!("test hook: paused at {point}");
    if tokio::time::timeout(PAUSE_LIMIT, interrupt.requested()).await.is_err() {
        eprintln!("test hook: no Ctrl-C at {point} within {PAUSE_LIMIT:?}; carrying on");
        return;
    }
    if std::env::var_os("DEPLOYER_TEST_HOLD_AFTER_CTRL_C").is_some() {
        eprintln!("test hook: holding at {point} after the first Ctrl-C");
        tokio::time::sleep(PAUSE_LIMIT).await;
    }
}
