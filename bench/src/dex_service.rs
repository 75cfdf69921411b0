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
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEPLOYER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(std::io::stderr).try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(local::supervisor::daemon::run(local::supervisor::StateDir::new(state_dir))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
