//! `edit-serving`: the edit–run loop on both targets, in the harness's workspace copy. Each run renames the
//! processor's `max` key (a one-line change), and the clock runs from the file's write:
//! - local: `up --local --watch`, until the first `RequestResponse` Invoke of the live alias whose result has the new
//!   key (the user's view: the change serves);
//! - AWS, against moto server: `up --watch`, until the watch says the change is deployed (`watch_updated`: code
//!   swapped, versions published, alias moved through the Lambda API). moto cannot run a function without Docker, so
//!   the alias's move is the end here, and moto answers at once where AWS takes its own time.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::deployer::{self, moto_env};
use crate::env::{copy_target_dir, tool, tools_path, workspace_copy};
use crate::error::{Context, Error, Result};
use crate::http;
use crate::moto::Moto;
use crate::stats::{Figure, Goal};

use super::Options;
use super::functions::SEED_PAYLOAD;

const SUITE: &str = "edit-serving";

/// The line each run changes, in `functions/processor/src/handler.rs`.
const ORIGINAL: &str = "(\"max\".to_owned()";

/// The stack name the AWS half deploys to moto.
const STACK: &str = "bench-edit-serving";

/// Runs the suite: the local half, then the AWS half.
pub fn run(options: &Options) -> Result<Vec<Figure>> {
    let (binary, how) = deployer::binary(options.deployer.as_deref())?;
    let work = workspace_copy()?;
    let handler = Handler::new(&work)?;
    eprintln!("edit-serving: deployer {how}");
    let mut figures = local(&binary, &work, &handler, options.compiling_runs())?;
    figures.extend(aws(&binary, &work, &handler, options.compiling_runs())?);
    Ok(figures)
}

fn local(binary: &Path, work: &Path, handler: &Handler, runs: usize) -> Result<Vec<Figure>> {
    deployer::run(binary, work, &["down", "--local"], &[])?;
    let envs = [("CARGO_TARGET_DIR", copy_target_dir().display().to_string())];
    eprintln!("edit-serving: up --local --watch in {} (the first deployment builds the copy's crates)", work.display());
    let mut watch = Watch::start(binary, work, &["up", "--local", "--watch"], &envs)?;
    let ready = watch.until("watch_started", Duration::from_mins(30))?;
    let text = |event: &str, key: &str| {
        ready
            .iter()
            .filter(|e| e["event"] == event)
            .find_map(|e| e.get(key).cloned())
            .with_context(|| format!("up --local --watch printed no {event} with {key} before watching"))
    };
    let authority = http::authority(text("endpoint", "url")?.as_str().unwrap_or_default()).to_owned();
    let alias = text("outputs", "outputs")?
        .get("DurableLambdaFunctionAliasArn")
        .and_then(Value::as_str)
        .context("up --local --watch printed no DurableLambdaFunctionAliasArn")?
        .to_owned();
    let (mut serving, mut build, mut deploy) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let key = handler.change(run)?;
        let written = Instant::now();
        let deadline = written + Duration::from_mins(5);
        loop {
            let path = format!("/2015-03-31/functions/{}/invocations", http::encode_segment(&alias));
            let headers = [("content-type", "application/json")];
            let reply =
                http::request(&authority, "POST", &path, &headers, SEED_PAYLOAD.as_bytes(), Duration::from_mins(1))?;
            if reply.text().contains(&key) {
                break;
            }
            if Instant::now() > deadline {
                return Err(Error::msg(format!("the edit ({key}) did not serve within 5 min: {}", reply.text())));
            }
        }
        serving.push(written.elapsed().as_secs_f64());
        let deployed = watch.until("watch_deployed", Duration::from_mins(1))?;
        let last = deployed.last().cloned().unwrap_or_default();
        build.push(last["build_seconds"].as_f64().unwrap_or(f64::NAN));
        deploy.push(last["deploy_seconds"].as_f64().unwrap_or(f64::NAN));
        eprintln!("edit-serving: local run {}: serving {:.2} s after the write", run + 1, serving[run]);
    }
    watch.stop()?;
    handler.restore()?;
    deployer::run(binary, work, &["down", "--local"], &[])?;
    Ok(vec![
        Figure::new(SUITE, "local: edit → serving (up --local --watch)", "s", serving)
            .target(Goal::AtMost(5.0))
            .note("from the handler's write to the first Invoke of the live alias that returns the new key"),
        Figure::new(SUITE, "  local: the watch's build", "s", build).note("cargo build, dev profile, incremental"),
        Figure::new(SUITE, "  local: the watch's redeployment", "s", deploy)
            .note("new versions published on the running local target, aliases moved"),
    ])
}

fn aws(binary: &Path, work: &Path, handler: &Handler, runs: usize) -> Result<Vec<Figure>> {
    let moto = Moto::start()?;
    let mut envs = moto_env(&moto.url);
    envs.push(("CARGO_TARGET_DIR", copy_target_dir().display().to_string()));
    let up = ["up", "--require-approval", "never", "--stack-name", STACK];
    eprintln!("edit-serving: up against moto (a Lambda build of the copy's crates)");
    deployer::run(binary, work, &up, &envs)?;
    moto_stand_ins(&moto.url)?;
    let mut watch = Watch::start(binary, work, &[&up[..], &["--watch"]].concat(), &envs)?;
    watch.until("watch_started", Duration::from_mins(30))?;
    let mut updated = Vec::new();
    for run in 0..runs {
        handler.change(run)?;
        let written = Instant::now();
        watch.until("watch_updated", Duration::from_mins(10))?;
        updated.push(written.elapsed().as_secs_f64());
        eprintln!("edit-serving: AWS run {}: hotswapped {:.2} s after the write", run + 1, updated[run]);
    }
    watch.stop()?;
    handler.restore()?;
    deployer::run(binary, work, &["down", "--stack-name", STACK], &envs)?;
    Ok(vec![Figure::new(SUITE, "AWS (moto): edit → alias moved (up --watch)", "s", updated).note(
        "from the handler's write to the watch's deployed line: Lambda build (release profile, cargo zigbuild), \
             zip, UpdateFunctionCode, PublishVersion and UpdateAlias on moto, whose API answers at once",
    )])
}

/// What moto's CloudFormation leaves out and the hotswap needs (as the deployer's moto test does): the `live` alias
/// (moto skips `AWS::Lambda::Alias`) and the orchestrator's `PROCESSOR_FUNCTION_NAME` as the version ARN
/// CloudFormation would write (moto resolves the `Ref` to an object its Lambda API cannot serialize).
fn moto_stand_ins(url: &str) -> Result<()> {
    let aws = tool("aws", "install it with `scripts/install-tools` (awscli) or set DEPLOYER_TOOLS_BIN")?;
    let call = |args: &[&str]| -> Result<Value> {
        let output = Command::new(&aws)
            .args(args)
            .args(["--endpoint-url", url, "--region", "us-east-1", "--output", "json"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
            .env("PATH", tools_path())
            .output()
            .context("cannot run the AWS CLI")?;
        if !output.status.success() {
            return Err(Error::msg(format!(
                "aws {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(serde_json::from_slice(&output.stdout).unwrap_or(Value::Null))
    };
    let listed = call(&["cloudformation", "list-stack-resources", "--stack-name", STACK])?;
    let physical = |id: &str| {
        listed["StackResourceSummaries"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["LogicalResourceId"] == id))
            .and_then(|r| r["PhysicalResourceId"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("{STACK} has no {id} on moto"))
    };
    let (processor, orchestrator) = (physical("Processor")?, physical("Orchestrator")?);
    call(&[
        "lambda",
        "create-alias",
        "--function-name",
        &orchestrator,
        "--name",
        "live",
        "--function-version",
        "$LATEST",
    ])?;
    let configuration = call(&["lambda", "get-function-configuration", "--function-name", &processor])?;
    let arn = configuration["FunctionArn"].as_str().context("no FunctionArn")?.trim_end_matches(":$LATEST");
    let variables = format!("Variables={{PROCESSOR_FUNCTION_NAME={arn}:1}}");
    call(&["lambda", "update-function-configuration", "--function-name", &orchestrator, "--environment", &variables])?;
    Ok(())
}

/// The processor's handler in the copy: each run writes its own variant of one line.
struct Handler {
    path: PathBuf,
    original: String,
}

impl Handler {
    fn new(work: &Path) -> Result<Self> {
        let path = work.join("functions/processor/src/handler.rs");
        let original = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if !original.contains(ORIGINAL) {
            return Err(Error::msg(format!(
                "{} no longer contains {ORIGINAL}, the line this suite edits",
                path.display()
            )));
        }
        Ok(Self { path, original })
    }

    /// Writes run `run`'s variant; returns the key the processor now answers with.
    fn change(&self, run: usize) -> Result<String> {
        let key = format!("max_{}_{run}", std::process::id());
        let changed = self.original.replace(ORIGINAL, &format!("(\"{key}\".to_owned()"));
        std::fs::write(&self.path, changed).with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(key)
    }

    fn restore(&self) -> Result<()> {
        std::fs::write(&self.path, &self.original).with_context(|| format!("cannot restore {}", self.path.display()))
    }
}

/// A running `--watch` with `--json`, its events read as they arrive.
struct Watch {
    child: Child,
    events: Receiver<Value>,
}

impl Watch {
    fn start(binary: &Path, work: &Path, args: &[&str], envs: &[(&str, String)]) -> Result<Self> {
        let mut child = deployer::command(binary, work, args, envs)
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (send, events) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    let _ = send.send(event);
                }
            }
        });
        Ok(Self { child, events })
    }

    /// The events up to and including the next one named `name`.
    fn until(&mut self, name: &str, limit: Duration) -> Result<Vec<Value>> {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self.events.recv_timeout(left).map_err(|_| {
                Error::msg(format!("the watch printed no {name} within {} s (it exits or hangs)", limit.as_secs()))
            })?;
            if event["event"] == "watch_build_failed" {
                return Err(Error::msg(format!("the watch's build failed: {event}")));
            }
            let done = event["event"] == name;
            seen.push(event);
            if done {
                return Ok(seen);
            }
        }
    }

    /// Ctrl-C, as a user stops it; waits for it to exit.
    fn stop(mut self) -> Result<()> {
        Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().context("cannot run kill")?;
        self.child.wait().context("cannot wait for the watch")?;
        Ok(())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
