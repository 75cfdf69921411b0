//! The deployer: builds the functions a stack declares, packages them as deterministic zips, publishes them to the
//! asset bucket and deploys the stack through CloudFormation change sets, or runs the same stacks on this machine.
//!
//! The pipeline is visible in the module names: `app` (the project's app, run as a process, and which stacks) →
//! `assets` (named by the fingerprint of their build inputs) → `build` → `package` → `publish` → `cfn` (deploy and
//! watch), on a `target` (AWS or the local target). Deploy decisions never print: they report typed `io::Event`s to an `io::Host`, which
//! decides how a terminal, a CI log or a JSON consumer sees them. `io` and the data its events carry (`payloads`)
//! import no domain module, and no module imports its importer (a test reads the sources to keep it so).
//!
//! The crate is a binary first: [`main`] is its whole interface; the few items beside it are for its tests.
#![warn(unreachable_pub)]

mod app;
mod assets;
mod aws;
mod bootstrap;
mod build;
mod cfn;
mod cli;
mod commands;
mod durable;
mod error;
mod functions;
mod interrupt;
mod io;
mod lock;
mod package;
mod payloads;
mod preflight;
mod publish;
mod target;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod watch;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

pub use build::elf::{ElfInfo, inspect as inspect_elf};
pub use error::{DeployerError, Result};
pub use workspace::{Workspace, is_package_variable};

/// Runs the `deployer` command line: parses the arguments, picks the output host and runs one command.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.global.verbose);
    // Long messages stay on one line: terminals wrap them, and logs and tests can search them.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).break_words(false).build())
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}; check the process's thread and file limits");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = if matches!(error, DeployerError::Interrupted(_)) {
                ExitCode::from(interrupt::EXIT_INTERRUPTED)
            } else {
                ExitCode::FAILURE
            };
            eprintln!("{:?}", miette::Report::new(error));
            code
        }
    }
}

async fn run(cli: cli::Cli) -> Result<()> {
    use cli::Command;
    if let Command::LocalDaemon(args) = &cli.command {
        return target::local::daemon(args.state_dir.clone()).await;
    }
    let mode = io::OutputMode::detect(cli.global.json, cli.global.verbose > 0);
    let ctx = commands::Context::new(cli.global, io::host(mode), Workspace::discover()?)?;
    match &cli.command {
        Command::Synth(args) => commands::synth::run(&ctx, args),
        Command::Up(args) => commands::up::run(&ctx, args).await,
        Command::Down(args) => commands::down::run(&ctx, args).await,
        Command::Diff(args) => commands::diff::run(&ctx, args).await,
        Command::Invoke(args) => commands::invoke::run(&ctx, args).await,
        Command::Executions(args) => commands::executions::run(&ctx, args).await,
        Command::History(args) => commands::history::run(&ctx, args).await,
        Command::Stop(args) => commands::stop::run(&ctx, args).await,
        Command::Callback(args) => commands::callback::run(&ctx, args).await,
        Command::Status(args) => commands::status::run(&ctx, args).await,
        Command::Logs(args) => commands::logs::run(&ctx, args).await,
        Command::Doctor(args) => commands::doctor::run(&ctx, args).await,
        Command::Time(args) => commands::time::run(&ctx, args).await,
        Command::Replay(args) => commands::replay::run(&ctx, args).await,
        Command::LocalDaemon(_) => Ok(()),
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        // Our own warnings (retries) always show; the SDK's only when asked for.
        0 => "error,deployer=warn",
        1 => "warn,deployer=info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DEPLOYER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // DEPLOYER_LOG_SPANS=1 also logs each span's busy time when it closes (the local engine's commands are spans).
    let spans = if std::env::var_os("DEPLOYER_LOG_SPANS").is_some() {
        tracing_subscriber::fmt::format::FmtSpan::CLOSE
    } else {
        tracing_subscriber::fmt::format::FmtSpan::NONE
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(spans)
        // Colours only on a terminal: the local service's log is a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
