//! `build`: warm (and with `--cold`, cold) Lambda builds of both functions for arm64 and `x86_64`, the zip sizes, and
//! the same crates through `cargo lambda build --release --arm64` when cargo-lambda is installed.
//!
//! Everything runs in the harness's copy of the workspace (`target/bench/work/ws`), so touching sources for a warm build
//! never makes the other engineers rebuild. Each architecture and cargo-lambda build in target folders of their own
//! under `target/bench/` (never the workspace's `target/`: see [`crate::env::copy_target_dir`]), primed by the
//! `--cold` run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::deployer;
use crate::env::{find_tool, ms, run_timed, tools_path, workspace_copy, workspace_root};
use crate::error::{Context, Result};
use crate::stats::{Figure, Goal, summarize};

use super::Options;

const SUITE: &str = "build";
const MIB: f64 = 1024.0 * 1024.0;

/// The cargo arguments selecting both functions, the same for our builds and cargo-lambda's.
const FUNCTIONS: [&str; 8] = ["-p", "processor", "--bin", "processor", "-p", "orchestrator", "--bin", "orchestrator"];

/// The two Lambda architectures: the deployer's name and the Rust triple.
const ARCHS: [(&str, &str); 2] = [("arm64", "aarch64-unknown-linux-gnu"), ("x86_64", "x86_64-unknown-linux-gnu")];

/// Our arm64 figures the cargo-lambda comparison divides: warm build (s), cold build (s, NaN when not measured), and
/// `(function, zip bytes)`.
type Ours = (f64, f64, Vec<(String, f64)>);

/// Runs the suite.
pub fn run(options: &Options) -> Result<Vec<Figure>> {
    let root = workspace_root();
    let work = workspace_copy()?;
    let (binary, how) = deployer::binary(options.deployer.as_deref())?;
    eprintln!("build: deployer {how}; sources copied to {}", work.display());
    let mut figures = Vec::new();
    let mut ours_arm64: Option<Ours> = None;
    for (arch, triple) in ARCHS {
        let target_dir =
            if arch == "arm64" { crate::env::copy_target_dir() } else { root.join("target/bench/x86_64-target") };
        if options.cold {
            // The cold build happens in the folder the warm builds then reuse.
            let cold_dir = target_dir.clone();
            remove_own(&cold_dir)?;
            eprintln!("build: cold {arch} build in the empty {}", cold_dir.display());
            let cold = zigbuild(&work, &cold_dir, triple)?;
            figures.push(
                Figure::new(SUITE, format!("{arch}: cold build, both functions"), "s", vec![cold / 1000.0]).note(
                    format!(
                        "cargo zigbuild --release --target {triple}.2.34 in an empty CARGO_TARGET_DIR={}",
                        cold_dir.display()
                    ),
                ),
            );
        }
        if !target_dir.join(triple).join("release").is_dir() {
            eprintln!(
                "build: {arch} skipped: {} holds no {triple} build yet; run `bench build --cold` once",
                target_dir.display()
            );
            continue;
        }
        // Prime: the copy's own workspace crates.
        zigbuild(&work, &target_dir, triple)?;
        let mut warm = Vec::new();
        for _ in 0..options.compiling_runs() {
            touch(&work.join("functions/pyjson/src/lib.rs"))?;
            warm.push(zigbuild(&work, &target_dir, triple)? / 1000.0);
        }
        let noop: Vec<f64> =
            (0..options.compiling_runs()).map(|_| zigbuild(&work, &target_dir, triple)).collect::<Result<_>>()?;
        figures.push(Figure::new(SUITE, format!("{arch}: warm build, both functions"), "s", warm.clone()).note(
            "pyjson (a dependency of both) touched, then cargo zigbuild --release: pyjson, processor and orchestrator recompile and link",
        ));
        figures.push(Figure::new(SUITE, format!("{arch}: no-op build"), "ms", noop));
        let sizes = zip_sizes(&binary, &work, &target_dir, arch)?;
        for (function, bytes) in &sizes {
            let limit = if function == "orchestrator" { 4.0 } else { 1.0 };
            figures.push(
                Figure::new(SUITE, format!("{arch}: {function} zip"), "MiB", vec![bytes / MIB])
                    .target(Goal::AtMost(limit))
                    .note(
                        "deterministic zip the deployer publishes (`deployer up` against moto), deflate of the stripped binary",
                    ),
            );
        }
        if arch == "arm64" {
            ours_arm64 = Some((summarize(&warm).median, figures_cold(&figures), sizes));
        }
    }
    if let Some(ours) = ours_arm64 {
        match cargo_lambda(options, &work, &ours) {
            Ok(mut found) => figures.append(&mut found),
            Err(e) => eprintln!("build: cargo-lambda comparison skipped: {e}"),
        }
    }
    Ok(figures)
}

/// The arm64 cold time in seconds, if this run measured one.
fn figures_cold(figures: &[Figure]) -> f64 {
    figures.iter().find(|f| f.name == "arm64: cold build, both functions").map_or(f64::NAN, |f| f.summary().median)
}

/// `cargo zigbuild --release` of both functions for `triple` (Lambda's glibc 2.34), in ms.
fn zigbuild(work: &Path, target_dir: &Path, triple: &str) -> Result<f64> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.current_dir(work).env("CARGO_TARGET_DIR", target_dir).env("PATH", tools_path()).args([
        "zigbuild",
        "--release",
        "--locked",
        "--target",
        &format!("{triple}.2.34"),
    ]);
    command.args(FUNCTIONS);
    if triple.starts_with("aarch64") {
        // What the deployer sets for arm64 (Graviton2 tuning, as cargo-lambda does), so the build is the same.
        command.env("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS", "-C target-cpu=neoverse-n1");
    }
    Ok(ms(run_timed(&mut command, "cargo zigbuild")?.check("cargo zigbuild")?.elapsed))
}

/// `(function, zip bytes)` of the zips `deployer up --arch <arch>` uploads to a moto server of its own (its build
/// is a no-op by now; `synth` builds nothing since assets are named by the fingerprint of their build inputs).
fn zip_sizes(binary: &Path, work: &Path, target_dir: &Path, arch: &str) -> Result<Vec<(String, f64)>> {
    let moto = crate::moto::Moto::start()?;
    let mut envs = deployer::moto_env(&moto.url);
    envs.push(("CARGO_TARGET_DIR", target_dir.display().to_string()));
    let args = ["up", "--require-approval", "never", "--stack-name", "bench-build", "--arch", arch];
    let run = deployer::run(binary, work, &args, &envs)?;
    let mut sizes = Vec::new();
    for (_, event) in run.named("asset_uploaded") {
        let asset = event.get("asset").and_then(serde_json::Value::as_str).unwrap_or_default();
        let function = asset.rsplit('/').next().unwrap_or_default().to_lowercase();
        #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
        let bytes = event.get("bytes").and_then(serde_json::Value::as_u64).unwrap_or(0) as f64;
        sizes.push((function, bytes));
    }
    sizes.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(sizes)
}

/// cargo-lambda's build of the same crates (arm64) in its own target folder, and the ratios ours / theirs.
fn cargo_lambda(options: &Options, work: &Path, ours: &Ours) -> Result<Vec<Figure>> {
    find_tool("cargo-lambda")
        .context("cargo-lambda is not installed (`pip install cargo-lambda` into target/bench/venv)")?;
    let target_dir = workspace_root().join("target/bench/cargo-lambda-target");
    let lambda_dir = target_dir.join("lambda");
    let build = || -> Result<f64> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut command = Command::new(cargo);
        command.current_dir(work).env("CARGO_TARGET_DIR", &target_dir).env("PATH", tools_path()).args([
            "lambda",
            "build",
            "--release",
            "--arm64",
            "--locked",
            "--output-format",
            "zip",
            "--lambda-dir",
        ]);
        command.arg(&lambda_dir).args(FUNCTIONS);
        Ok(ms(run_timed(&mut command, "cargo lambda build")?.check("cargo lambda build")?.elapsed))
    };
    let mut figures = Vec::new();
    if options.cold {
        remove_own(&target_dir)?;
        eprintln!("build: cold cargo lambda build in the empty {}", target_dir.display());
        let cold = build()? / 1000.0;
        figures.push(Figure::new(SUITE, "cargo-lambda arm64: cold build", "s", vec![cold]));
        figures.push(Figure::new(SUITE, "ratio ours / cargo-lambda: cold build", "x", vec![ours.1 / cold]));
    }
    if !target_dir.join("aarch64-unknown-linux-gnu/release").is_dir() {
        return Err(crate::error::Error::msg(format!(
            "{} is not primed; run `bench build --cold` once",
            target_dir.display()
        )));
    }
    build()?;
    let mut warm = Vec::new();
    for _ in 0..options.compiling_runs() {
        touch(&work.join("functions/pyjson/src/lib.rs"))?;
        warm.push(build()? / 1000.0);
    }
    let median = summarize(&warm).median;
    figures.push(
        Figure::new(SUITE, "cargo-lambda arm64: warm build", "s", warm)
            .note("same touch as ours, `cargo lambda build --release --arm64 --output-format zip`"),
    );
    figures.push(Figure::new(SUITE, "ratio ours / cargo-lambda: warm build", "x", vec![ours.0 / median]));
    for (function, our_bytes) in &ours.2 {
        let zip = lambda_dir.join(function).join("bootstrap.zip");
        #[expect(clippy::cast_precision_loss, reason = "sizes far below 2^52")]
        let theirs = std::fs::metadata(&zip).with_context(|| format!("cannot read {}", zip.display()))?.len() as f64;
        figures.push(Figure::new(SUITE, format!("cargo-lambda arm64: {function} zip"), "MiB", vec![theirs / MIB]));
        figures.push(
            Figure::new(SUITE, format!("ratio ours / cargo-lambda: {function} zip"), "x", vec![our_bytes / theirs])
                .target(Goal::AtMost(1.0)),
        );
    }
    Ok(figures)
}

/// Sets a file's modification time to now, so cargo rebuilds it.
fn touch(path: &PathBuf) -> Result<()> {
    let file =
        std::fs::File::options().write(true).open(path).with_context(|| format!("cannot open {}", path.display()))?;
    file.set_modified(SystemTime::now()).with_context(|| format!("cannot touch {}", path.display()))
}

/// Removes one of the harness's own folders under `target/bench/` (never anything else).
fn remove_own(dir: &Path) -> Result<()> {
    let own = workspace_root().join("target/bench");
    if dir.starts_with(&own) && dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(())
}
