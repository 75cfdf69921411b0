//! `bench local-service --state-dir <folder>`: the local service of the `local` suite's dex side, run by the
//! harness binary itself. That side needs the local crate's test hooks (its functions send their checkpoints to dex,
//! dex runs their handlers through the service), which the harness links anyway for the oracle; the deployer under
//! test is built without them, as users build it, so it cannot serve that side.

use std::process::ExitCode;

/// The hidden subcommand's name.
pub const SUBCOMMAND: &str = "local-service";

/// Serves until stopped; `args` are those after the subcommand.
pub fn run(args: &[String]) -> ExitCode {
    let [flag, state_dir] = args else {
        eprintln!("usage: bench {SUBCOMMAND} --state-dir <folder>");
        return ExitCode::from(2);
    };
    if flag != "--state-dir" {
        eprintln!("usage: bench {SUBCOMMAND} --state-dir <folder>");
        return ExitCode::from(2);
    }
    local::supervisor::daemon::run_foreground(state_dir.into())
}
