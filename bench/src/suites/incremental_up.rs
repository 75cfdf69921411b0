//! `incremental-up`: a one-line change in the processor, then `up` against moto, in a copy of the workspace —
//! time, bytes uploaded and resources updated (target: one asset; only the processor's function and version change).

use std::path::Path;

use serde_json::Value;

use crate::deployer::{self, moto_env};
use crate::env::{ms, workspace_copy};
use crate::error::{Context, Error, Result};
use crate::moto::Moto;
use crate::stats::{Figure, Goal};

use super::Options;
use super::noop_up::{describe, phases};

const SUITE: &str = "incremental-up";

/// The line the suite changes: the processor's message for an empty `values`.
const ORIGINAL: &str = "\"No values provided\"";

/// Runs the suite.
pub fn run(options: &Options) -> Result<Vec<Figure>> {
    let (binary, how) = deployer::binary(options.deployer.as_deref())?;
    let work = workspace_copy()?;
    let handler = work.join("functions/processor/src/handler.rs");
    let original = std::fs::read_to_string(&handler).with_context(|| format!("cannot read {}", handler.display()))?;
    if !original.contains(ORIGINAL) {
        return Err(Error::msg(format!(
            "{} no longer contains {ORIGINAL}, the line this suite edits",
            handler.display()
        )));
    }
    let moto = Moto::start()?;
    let mut env = moto_env(&moto.url);
    env.push(("CARGO_TARGET_DIR", crate::env::copy_target_dir().display().to_string()));
    let args = ["up", "--require-approval", "never", "--stack-name", "bench-incremental"];
    eprintln!("incremental-up: deployer {how}; first up in {} (builds the copy's crates)", work.display());
    deployer::run(&binary, &work, &args, &env)?;
    let mut wall = Vec::new();
    let mut build = Vec::new();
    let mut deploy = Vec::new();
    let mut bytes = Vec::new();
    let mut uploads = Vec::new();
    let mut updated = Vec::new();
    let mut calls = Vec::new();
    let mut last_changes = String::new();
    let mut last_calls = String::new();
    for i in 0..options.compiling_runs() {
        write_change(&handler, &original, i)?;
        let before = moto.requests()?.len();
        let run = deployer::run(&binary, &work, &args, &env)?;
        let requests = moto.requests()?;
        let new = requests.get(before..).unwrap_or_default();
        eprintln!("incremental-up: run {}: {:.0} ms", i + 1, ms(run.elapsed));
        wall.push(ms(run.elapsed) / 1000.0);
        let (_, b, d) = phases(&run);
        build.push(b / 1000.0);
        deploy.push(d / 1000.0);
        let sent: u64 = run.named("asset_uploaded").filter_map(|(_, e)| e.get("bytes").and_then(Value::as_u64)).sum();
        #[expect(clippy::cast_precision_loss, reason = "sizes and counts far below 2^52")]
        {
            bytes.push(sent as f64 / 1024.0 / 1024.0);
            uploads.push(run.named("asset_uploaded").count() as f64);
            calls.push(new.len() as f64);
        }
        let changes: Vec<String> = run
            .named("change_set")
            .filter(|(_, e)| e.get("stack").and_then(Value::as_str) == Some("bench-incremental"))
            .flat_map(|(_, e)| e.get("changes").and_then(Value::as_array).cloned().unwrap_or_default())
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        updated.push(changes.len() as f64);
        last_changes = changes.join("; ");
        last_calls = describe(new);
    }
    std::fs::write(&handler, &original).with_context(|| format!("cannot restore {}", handler.display()))?;
    Ok(vec![
        Figure::new(SUITE, "up after a one-line processor change: wall", "s", wall).note(format!("deployer: {how}")),
        Figure::new(SUITE, "  phase: build + package", "s", build)
            .note("cargo zigbuild --release (processor recompiles and links with thin LTO), zip + SHA-256"),
        Figure::new(SUITE, "  phase: publish + deploy", "s", deploy)
            .note(format!("moto calls of the last run: {last_calls}")),
        Figure::new(SUITE, "assets uploaded", "count", uploads).target(Goal::Exactly(1.0)),
        Figure::new(SUITE, "bytes uploaded", "MiB", bytes),
        Figure::new(SUITE, "resources in the change set", "count", updated)
            .target(Goal::Exactly(2.0))
            .note(format!("last change set: {last_changes}")),
        Figure::new(SUITE, "AWS API calls", "count", calls),
    ])
}

/// Writes the handler with run `i`'s variant of the message: each run is a new binary, so a new asset.
fn write_change(handler: &Path, original: &str, i: usize) -> Result<()> {
    let changed =
        original.replace(ORIGINAL, &format!("\"No values provided (bench edit {i} {})\"", std::process::id()));
    std::fs::write(handler, changed).with_context(|| format!("cannot write {}", handler.display()))
}
