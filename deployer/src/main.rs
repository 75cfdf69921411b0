//! The `deployer` binary: parses the command line, picks the output host and runs one command.

use std::process::ExitCode;

use clap::Parser;
use deployer::cli::{Cli, Command};
use deployer::commands::{self, Context};
use deployer::io::{self, OutputMode};
use deployer::workspace::Workspace;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
    // Long messages stay on one line: terminals wrap them, and logs and tests can search them.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).break_words(false).build())
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = if matches!(error, deployer::DeployerError::Interrupted(_)) {
                ExitCode::from(deployer::interrupt::EXIT_INTERRUPTED)
            } else {
                ExitCode::FAILURE
            };
            eprintln!("{:?}", miette::Report::new(error));
            code
        }
    }
}

async fn run(cli: Cli) -> deployer::Result<()> {
    if let Command::LocalDaemon(args) = &cli.command {
        return commands::local::daemon(args).await;
    }
    let mode = OutputMode::detect(cli.global.json, cli.global.verbose > 0);
    let ctx = Context { host: io::host(mode), workspace: Workspace::discover()?, global: cli.global };
    match &cli.command {
        Command::Synth(args) => commands::synth::run(&ctx, args),
        Command::Up(args) => commands::up::run(&ctx, args).await,
        Command::Down(args) => commands::down::run(&ctx, args).await,
        Command::Diff => commands::diff::run(&ctx).await,
        Command::Invoke(args) => commands::invoke::run(&ctx, args).await,
        Command::Executions(args) => commands::executions::run(&ctx, args).await,
        Command::History(args) => commands::history::run(&ctx, args).await,
        Command::Stop(args) => commands::stop::run(&ctx, args).await,
        Command::Callback(args) => commands::callback::run(&ctx, args).await,
        Command::Status => commands::local::status(&ctx).await,
        Command::Logs(args) => commands::local::logs(&ctx, args).await,
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
