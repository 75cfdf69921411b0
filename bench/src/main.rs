//! `bench`: measures what users of this workspace feel — deploy overhead against moto, incremental deploys, build
//! times and zip sizes, local end-to-end latency (our durable engine against AWS's emulator in the same run), and
//! the functions' cold start and memory — and prints a table (median and spread over N runs) and writes every sample
//! as JSON. `bench local-service --state-dir <folder>` is internal: the `local` suite's dex side runs it.
//!
//! ```sh
//! cargo run -p bench --release -- functions noop-up --runs 5 [--json-out target/bench/latest.json]
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests"))]

mod deployer;
mod dex_service;
mod env;
mod error;
mod http;
mod moto;
mod report;
mod runtime_api;
mod stats;
mod suites;

use std::path::PathBuf;
use std::process::ExitCode;

use error::{Error, Result};
use suites::Options;

const USAGE: &str = "usage: bench <suite>... [--runs N] [--build-runs N] [--json-out PATH] [--cold] [--deployer PATH] [--requests N] [--concurrency N] [--dex-poll-ms N]
suites: noop-up incremental-up edit-serving build local functions (or `all`: every suite but the cold builds)
  --runs N         runs per figure (default 5)
  --build-runs N   runs per figure of incremental-up, edit-serving and build, which compile (default: --runs)
  --json-out PATH  where the JSON goes (default target/bench/latest.json)
  --cold           build: also time cold builds (separate CARGO_TARGET_DIR; ~10 min each on 2 cores)
  --deployer PATH  the deployer binary (default target/release/deployer, built with `cargo build -p deployer --release` when missing)
  --requests N     local: executions per load level and engine in each run (default 50)
  --concurrency N  local: concurrent clients of the parallel level (default 16)
  --dex-poll-ms N  local: how often a dex client asks whether its execution ended (default 5)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((first, rest)) = args.split_first()
        && first == dex_service::SUBCOMMAND
    {
        return dex_service::run(rest);
    }
    match parse(&args).and_then(|(suites, options)| run(&suites, &options, &args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<(Vec<String>, Options)> {
    let mut options = Options::default();
    let mut suites = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value =
            |name: &str| iter.next().cloned().ok_or_else(|| Error::msg(format!("{name} needs a value\n{USAGE}")));
        let number = |name: &str, text: String| {
            text.parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::msg(format!("{name} takes a positive number, not `{text}`")))
        };
        match arg.as_str() {
            "--runs" => options.runs = number("--runs", value("--runs")?)?,
            "--build-runs" => {
                options.build_runs = Some(number("--build-runs", value("--build-runs")?)?);
            }
            "--json-out" => options.json_out = PathBuf::from(value("--json-out")?),
            "--cold" => options.cold = true,
            "--deployer" => options.deployer = Some(PathBuf::from(value("--deployer")?)),
            "--requests" => options.requests = number("--requests", value("--requests")?)?,
            "--concurrency" => {
                options.concurrency = number("--concurrency", value("--concurrency")?)?;
            }
            "--dex-poll-ms" => {
                options.dex_poll_ms =
                    u64::try_from(number("--dex-poll-ms", value("--dex-poll-ms")?)?).unwrap_or(u64::MAX);
            }
            "-h" | "--help" => return Err(Error::msg(USAGE)),
            "all" => suites.extend(suites::ALL.iter().map(|s| (*s).to_owned())),
            suite if suites::ALL.contains(&suite) => suites.push(suite.to_owned()),
            other => return Err(Error::msg(format!("unknown argument `{other}`\n{USAGE}"))),
        }
    }
    if suites.is_empty() {
        return Err(Error::msg(format!("name at least one suite\n{USAGE}")));
    }
    Ok((suites, options))
}

fn run(suites: &[String], options: &Options, args: &[String]) -> Result<()> {
    let machine = report::Machine::detect();
    let command = format!("cargo run -p bench --release -- {}", args.join(" "));
    let load_before = report::load_average();
    eprintln!("bench: {command}\nbench: machine: {}; load average {load_before}", machine.text());
    let mut figures = Vec::new();
    let mut failures = Vec::new();
    for suite in suites {
        eprintln!("bench: suite {suite}");
        match suites::run(suite, options) {
            Ok(mut found) => figures.append(&mut found),
            Err(e) => {
                eprintln!("bench: suite {suite} failed: {e}");
                failures.push(format!("{suite}: {e}"));
            }
        }
        // Write after every suite, so a long run that is stopped keeps what it measured.
        report::write_json(&options.json_out, &command, &machine, options.runs, &figures)?;
    }
    println!(
        "Command: `{command}`\n\nMachine: {}; load average (1, 5, 15 min) {load_before} at the start, {} at the end \
         (the machine is shared with other engineers' builds)\n",
        machine.text(),
        report::load_average()
    );
    print!("{}", report::table(&figures));
    let notes = report::notes(&figures);
    if !notes.is_empty() {
        println!("\n{notes}");
    }
    eprintln!("bench: wrote {}", options.json_out.display());
    if failures.is_empty() { Ok(()) } else { Err(Error::msg(format!("suites failed: {}", failures.join("; ")))) }
}
