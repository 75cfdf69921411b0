//! Driving the deployer binary: which binary, its environment against moto, and a run with `--json` whose events
//! are timestamped as they arrive, so a run splits into start-up, build + package, and deploy.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::env::{cargo_niced, run_timed, tail, tools_path, workspace_root};
use crate::error::{Context, Error, Result};

/// The deployer binary to run: `explicit`, else `target/release/deployer`, else the harness's own release build
/// (`target/bench/deployer-target/release/deployer`), built with nice 19 only when missing (so it never holds the
/// shared `target/release` lock, and a colleague's edit in progress never triggers a rebuild in the middle of a run).
/// Returns the path and how it was found.
pub fn binary(explicit: Option<&Path>) -> Result<(PathBuf, String)> {
    if let Some(path) = explicit {
        let absolute = std::fs::canonicalize(path).with_context(|| format!("--deployer {}", path.display()))?;
        return Ok((absolute, format!("{} (--deployer)", path.display())));
    }
    let root = workspace_root();
    let shared = root.join("target/release/deployer");
    if shared.is_file() {
        return Ok((shared.clone(), format!("{} (already built)", shared.display())));
    }
    let own_dir = crate::env::own_target();
    let built = own_dir.join("release/deployer");
    // Always asked of cargo (a no-op when fresh), so the figures are never those of an older deployer. The release
    // profile is sized for the Lambda functions; the CLI is built for speed instead (opt-level 3, thin LTO).
    eprintln!(
        "bench: building the deployer: cargo build -p deployer --release, opt-level 3, thin LTO (CARGO_TARGET_DIR={})",
        own_dir.display()
    );
    let mut command = cargo_niced();
    command
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &own_dir)
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_LTO", "thin")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .args(["build", "-p", "deployer", "--release", "--locked"]);
    run_timed(&mut command, "cargo build -p deployer --release")?.check("cargo build -p deployer --release")?;
    Ok((built.clone(), format!("{} (cargo build -p deployer --release, opt-level 3, thin LTO)", built.display())))
}

/// One deployer run with `--json`.
#[derive(Debug)]
pub struct DeployerRun {
    /// Wall time, spawn to exit.
    pub elapsed: Duration,
    /// Each JSON event with the time it arrived, since spawn.
    pub events: Vec<(Duration, Value)>,
}

impl DeployerRun {
    /// The events named `name` (`stage`, `asset_uploaded`, `change_set`, ...).
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a (Duration, Value)> + 'a {
        self.events.iter().filter(move |(_, e)| e.get("event").and_then(Value::as_str) == Some(name))
    }

    /// When the last event named `name` arrived.
    pub fn last(&self, name: &str) -> Option<Duration> {
        self.named(name).last().map(|(t, _)| *t)
    }
}

/// `deployer <args> --json` in `dir` with `envs`, as the harness runs it: plain CI output, no AWS profile, the tool
/// folders on `PATH`, stdout piped for the JSON events.
pub fn command(binary: &Path, dir: &Path, args: &[&str], envs: &[(&str, String)]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .arg("--json")
        .current_dir(dir)
        .env_remove("AWS_PROFILE")
        .env("CI", "true")
        .env("PATH", tools_path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    command
}

/// Runs `deployer <args> --json` in `dir` with `envs`, failing with its output when it fails.
pub fn run(binary: &Path, dir: &Path, args: &[&str], envs: &[(&str, String)]) -> Result<DeployerRun> {
    let mut command = command(binary, dir, args, envs);
    command.stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
    let stdout = child.stdout.take().context("no stdout pipe")?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(std::result::Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut events = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
        let at = start.elapsed();
        if let Ok(value) = serde_json::from_str::<Value>(&line) {
            events.push((at, value));
        }
    }
    let status = child.wait().context("cannot wait for the deployer")?;
    let elapsed = start.elapsed();
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::msg(format!("deployer {} failed ({status}):\n{}", args.join(" "), tail(&stderr, 4000))));
    }
    Ok(DeployerRun { elapsed, events })
}

/// The environment that points the deployer at moto.
pub fn moto_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", url.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing-secret".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}
