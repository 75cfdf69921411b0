//! `noop-up`: a second `up` against moto with nothing changed — wall time (no cargo runs: the assets are named by
//! the fingerprint of their build inputs and already published), and the AWS API calls, uploads and change sets it
//! makes (targets: < 1 s, nothing built, 0 uploads, 0 change sets).

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::deployer::{self, DeployerRun, moto_env};
use crate::env::{ms, run_timed, workspace_root};
use crate::error::Result;
use crate::moto::{Logged, Moto};
use crate::stats::{Figure, Goal};

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
    let metadata = time_cargo_metadata(options.runs)?;
    let mut wall = Vec::new();
    let mut calls = Vec::new();
    let mut uploads = Vec::new();
    let mut change_sets = Vec::new();
    let mut startup = Vec::new();
    let mut deploy = Vec::new();
    let mut built = Vec::new();
    let mut last_calls = Vec::new();
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
        built.push(count(run.named("asset_packaged").count()));
        let (to_bootstrap, _, rest) = phases(&run);
        startup.push(to_bootstrap);
        deploy.push(rest);
        last_calls = new;
    }
    Ok(vec![
        Figure::new(SUITE, "first up (create both stacks)", "ms", vec![ms(first.elapsed)]).note(format!("deployer: {how}")),
        Figure::new(SUITE, "no-op up: wall time", "ms", wall).target(Goal::AtMost(1000.0)).note(
            "a no-op up runs no cargo: every asset is named by the fingerprint of its build inputs and already published",
        ),
        Figure::new(SUITE, "  phase: start-up to the bootstrap stage", "ms", startup).note(
            "process start, `cargo metadata`, `rustc -vV`, fingerprints, synthesis, AWS config, the asset listing (from the --json events' arrival)",
        ),
        Figure::new(SUITE, "  phase: bootstrap, publish and deploy checks", "ms", deploy)
            .note(format!("bootstrap stage event to exit; moto calls of the last run: {}", describe(&last_calls))),
        Figure::new(SUITE, "  cargo metadata alone", "ms", metadata),
        Figure::new(SUITE, "assets built", "count", built).target(Goal::Exactly(0.0)),
        Figure::new(SUITE, "AWS API calls", "count", calls).note("requests in moto's log during the run"),
        Figure::new(SUITE, "uploads", "count", uploads).target(Goal::Exactly(0.0)),
        Figure::new(SUITE, "change sets executed", "count", change_sets).target(Goal::Exactly(0.0)),
    ])
}

#[expect(clippy::cast_precision_loss, reason = "small counts")]
fn count(n: usize) -> f64 {
    n as f64
}

/// `(start-up, build + package, the rest)` in ms from the events' arrival times: up to the build stage (or, when
/// nothing is built, the bootstrap stage), from there to the last packaged asset, and from there to the exit.
pub fn phases(run: &DeployerRun) -> (f64, f64, f64) {
    let stage = |name: &str| {
        run.named("stage")
            .find(|(_, e)| e.get("stage").and_then(serde_json::Value::as_str) == Some(name))
            .map(|(t, _)| *t)
    };
    let start = stage("build").or_else(|| stage("bootstrap")).unwrap_or(Duration::ZERO);
    let packaged = run.last("asset_packaged").unwrap_or(start);
    (ms(start), ms(packaged.saturating_sub(start)), ms(run.elapsed.saturating_sub(packaged)))
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

/// `cargo metadata --no-deps` alone, `runs` times (after one warm-up run).
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
