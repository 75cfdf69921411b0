//! The local target's service on its own, for the crate's tests: `local-service --state-dir <folder>`. The
//! deployer runs the same service as `deployer local-daemon --state-dir <folder>`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    let (Some("--state-dir"), Some(state_dir)) = (first.as_deref(), args.next()) else {
        eprintln!("usage: local-service --state-dir <folder>");
        return ExitCode::from(2);
    };
    local::supervisor::daemon::run_foreground(state_dir.into())
}
