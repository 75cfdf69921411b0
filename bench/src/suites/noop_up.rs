//! `noop-up`: a second `up` against moto with nothing changed — wall time, our own time without cargo's build
//! check, and the AWS API calls, uploads and change sets it makes (targets: < 1 s own time, 0 uploads, 0 change
//! sets).

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::deployer::{self, DeployerRun, moto_env};
use crate::env::{ms, run_timed, tools_path, workspace_root};
use crate::error::Result;
use crate::moto::{Logged, Moto};
use crate::stats::{Figure, Target, summarize};

use super::Options;

const SUITE: &str = "noop-up";

/// The stack name the suite deploys (its own, so it never takes a lock a colleague's `up` holds).
pub const STACK: &str = "bench-noop";

/// Runs the suite.
pub fn run(options: &Options) -> Result<Vec<Figure>> {
    let (binary, how) = deployer::binary(options.deployer.as_deref())?;
    eprintln!("noop-up: deployer {how}");
    let moto = Moto::start()?;
    let root = workspace_root();
    let env = moto_env(&moto.url);
    let args = ["up", "--require-approval", "never", "--stack-name", STACK];
    eprintln!("noop-up: first up (creates the bootstrap and app stacks; builds if needed)");
    let first = deployer::run(&binary, &root, &args, &env)?;
    let cargo_noop = time_cargo_noop(options.runs)?;
    let metadata = time_cargo_metadata(options.runs)?;
    let mut wall = Vec::new();
    let mut calls = Vec::new();
    let mut uploads = Vec::new();
    let mut change_sets = Vec::new();
    let mut startup = Vec::new();
    let mut build = Vec::new();
    let mut deploy = Vec::new();
    let mut second_zip = Vec::new();
    let mut first_zip = Vec::new();
    let mut last_calls = Vec::new();
    let mut zip_order = String::new();
    for i in 0..options.runs {
        let before = moto.requests()?.len();
        let run = deployer::run(&binary, &root, &args, &env)?;
        let requests = moto.requests()?;
        let new: Vec<Logged> = requests.get(before..).unwrap_or_default().to_vec();
        eprintln!("noop-up: run {}: {:.0} ms, {} API call(s)", i + 1, ms(run.elapsed), new.len());
        wall.push(ms(run.elapsed));
        calls.push(count(new.len()));
        uploads.push(count(new.iter().filter(|r| r.is_upload()).count() + run.named("asset_uploaded").count()));
        change_sets.push(count(run.named("change_set").count()));
        let phases = phases(&run);
        startup.push(phases.0);
        build.push(phases.1);
        deploy.push(phases.2);
        if let (Some(first), Some(last)) = (run.named("asset_packaged").next(), run.last("asset_packaged")) {
            second_zip.push(ms(last.saturating_sub(first.0)));
            first_zip.push(ms(first.0) - phases.0);
        }
        zip_order = run
            .named("asset_packaged")
            .map(|(_, e)| {
                format!(
                    "{} ({} bytes)",
                    e.get("path").and_then(serde_json::Value::as_str).unwrap_or("?"),
                    e.get("bytes").and_then(serde_json::Value::as_u64).unwrap_or(0)
                )
            })
            .collect::<Vec<_>>()
            .join(", then ");
        last_calls = new;
    }
    let cargo_median = summarize(&cargo_noop).median;
    let first_zip: Vec<f64> = first_zip.iter().map(|t| t - cargo_median).collect();
    let own: Vec<f64> = wall.iter().map(|w| w - cargo_median).collect();
    Ok(vec![
        Figure::new(SUITE, "first up (create both stacks)", "ms", vec![ms(first.elapsed)]).note(format!("deployer: {how}")),
        Figure::new(SUITE, "no-op up: wall time", "ms", wall),
        Figure::new(SUITE, "cargo zigbuild no-op alone", "ms", cargo_noop)
            .note("`cargo zigbuild --release --locked --target aarch64-unknown-linux-gnu.2.34` of both functions, timed alone"),
        Figure::new(SUITE, "no-op up: own time (wall − cargo no-op)", "ms", own).target(Target::AtMost(1000.0)),
        Figure::new(SUITE, "  phase: start-up to build stage", "ms", startup)
            .note("process start, `cargo metadata`, synthesizing the app (from the first --json event's arrival)"),
        Figure::new(SUITE, "  phase: build + package", "ms", build)
            .note("build stage event to the last asset_packaged event: cargo's no-op check, ELF check, copy, zip + SHA-256 of both binaries"),
        Figure::new(SUITE, "    of which: packaging the first asset (≈)", "ms", first_zip)
            .note("build stage event to the first asset_packaged event, minus the median of cargo's no-op alone"),
        Figure::new(SUITE, "    of which: packaging the second asset", "ms", second_zip)
            .note(format!("between the two asset_packaged events: read, deflate level 9, SHA-256, write; order: {zip_order}")),
        Figure::new(SUITE, "  phase: publish + deploy checks", "ms", deploy)
            .note(format!("last asset_packaged to exit; moto calls of the last run: {}", describe(&last_calls))),
        Figure::new(SUITE, "  cargo metadata alone", "ms", metadata),
        Figure::new(SUITE, "AWS API calls", "count", calls).note("requests in moto's log during the run"),
        Figure::new(SUITE, "uploads", "count", uploads).target(Target::Exactly(0.0)),
        Figure::new(SUITE, "change sets executed", "count", change_sets).target(Target::Exactly(0.0)),
    ])
}

#[expect(clippy::cast_precision_loss, reason = "small counts")]
fn count(n: usize) -> f64 {
    n as f64
}

/// `(start-up, build + package, deploy)` in ms from the events' arrival times.
pub fn phases(run: &DeployerRun) -> (f64, f64, f64) {
    let build_stage = run
        .named("stage")
        .find(|(_, e)| e.get("stage").and_then(serde_json::Value::as_str) == Some("build"))
        .map_or(Duration::ZERO, |(t, _)| *t);
    let packaged = run.last("asset_packaged").unwrap_or(build_stage);
    (ms(build_stage), ms(packaged.saturating_sub(build_stage)), ms(run.elapsed.saturating_sub(packaged)))
}

/// `POST / ×7, GET /bucket?list-type=2… ×2` (query strings cut).
pub fn describe(requests: &[Logged]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in requests {
        let path = r.path.split('?').next().unwrap_or_default();
        let kind = if r.path.contains("list-type=2") { format!("{path}?list-type=2") } else { path.to_owned() };
        *counts.entry(format!("{} {kind}", r.method)).or_default() += 1;
    }
    counts.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ")
}

/// The deployer's build command for arm64, alone, `runs` times (after one warm-up run).
fn time_cargo_noop(runs: usize) -> Result<Vec<f64>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut times = Vec::new();
    for i in 0..=runs {
        let mut command = Command::new(&cargo);
        command.current_dir(workspace_root()).env("PATH", tools_path()).args([
            "zigbuild",
            "--release",
            "--locked",
            "--target",
            "aarch64-unknown-linux-gnu.2.34",
            "--package",
            "processor",
            "--bin",
            "processor",
            "--package",
            "orchestrator",
            "--bin",
            "orchestrator",
        ]);
        let finished = run_timed(&mut command, "cargo zigbuild")?.check("cargo zigbuild (no-op)")?;
        if i > 0 {
            times.push(ms(finished.elapsed));
        }
    }
    Ok(times)
}

fn time_cargo_metadata(runs: usize) -> Result<Vec<f64>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut command = Command::new(&cargo);
        command.current_dir(workspace_root()).args(["metadata", "--format-version", "1", "--no-deps", "--offline"]);
        times.push(ms(run_timed(&mut command, "cargo metadata")?.check("cargo metadata")?.elapsed));
    }
    Ok(times)
}
