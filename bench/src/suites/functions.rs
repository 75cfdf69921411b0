//! `functions`: cold start (process start to first response) and peak RSS of each function binary under the
//! harness's own Runtime API, with the Python originals' start-up beside them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::env::{cargo_niced, ms, own_target, run_timed, workspace_root};
use crate::error::{Context, Error, Result};
use crate::runtime_api::{ProcessRun, run_process};
use crate::stats::{Figure, Goal};

const SUITE: &str = "functions";

/// The pattern's payload.
pub const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50]}"#;

const PROCESSOR_PY: &str = include_str!("../../python/processor.py");
const ORCHESTRATOR_PY: &str = include_str!("../../python/orchestrator.py");

/// The Python virtualenv with boto3 and the Python durable SDK.
fn python() -> PathBuf {
    std::env::var_os("BENCH_PYTHON")
        .map_or_else(|| PathBuf::from("/root/.cache/devtools-venv/bin/python3"), PathBuf::from)
}

/// Runs the suite `runs` times per figure.
pub fn run(runs: usize) -> Result<Vec<Figure>> {
    let bin_dir = binaries()?;
    let mut figures = Vec::new();
    for function in ["processor", "orchestrator"] {
        let binary = bin_dir.join(function);
        let mut samples = Vec::new();
        for _ in 0..runs {
            samples.push(run_function(&binary, function, &[])?);
        }
        let pick = |f: fn(&ProcessRun) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
        let checkpoints = samples.first().map_or(0, |s| s.checkpoints);
        let body = samples.first().map(|s| s.first_body.clone()).unwrap_or_default();
        let source = binary.display().to_string();
        figures.push(
            Figure::new(SUITE, format!("{function}: cold start to first response"), "ms", pick(|s| s.first_response_ms))
                .target(Goal::AtMost(10.0))
                .note(format!(
                    "{source}; process spawn to the first POST /response on the harness's Runtime API{}; first response: {body}",
                    if function == "orchestrator" {
                        format!(" (first durable invocation: step + invoke START, {checkpoints} checkpoint call(s) over 2 invocations, answered at once)")
                    } else {
                        String::new()
                    }
                )),
        );
        figures.push(Figure::new(SUITE, format!("{function}: init (start to first /next)"), "ms", pick(|s| s.init_ms)));
        figures.push(Figure::new(SUITE, format!("{function}: warm invocation"), "ms", pick(|s| s.warm_ms)));
        figures.push(
            Figure::new(SUITE, format!("{function}: peak RSS"), "MiB", pick(|s| s.peak_rss_mib))
                .target(Goal::AtMost(16.0))
                .note("VmHWM from /proc/<pid>/status after two invocations"),
        );
    }
    // The durable SDK's HTTPS client loads the system's trust store at its first call. This Debian host keeps it as
    // one bundle plus a folder of ~290 per-certificate files, all read; Amazon Linux 2023 keeps bundles only. The
    // same binary with the trust store read from the bundle alone shows what the folder costs here.
    let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    if bundle.is_file() {
        let extra = [("SSL_CERT_FILE", bundle.display().to_string())];
        let binary = bin_dir.join("orchestrator");
        let samples = (0..runs).map(|_| run_function(&binary, "orchestrator", &extra)).collect::<Result<Vec<_>>>()?;
        figures.push(
            Figure::new(
                SUITE,
                "orchestrator: cold start, trust store from the CA bundle alone",
                "ms",
                samples.iter().map(|s| s.first_response_ms).collect(),
            )
            .target(Goal::AtMost(10.0))
            .note(format!("SSL_CERT_FILE={}: no per-certificate folder, as on Amazon Linux 2023", bundle.display())),
        );
    }
    match python_figures(runs) {
        Ok(mut python) => figures.append(&mut python),
        Err(e) => eprintln!("functions: Python originals skipped: {e}"),
    }
    Ok(figures)
}

/// The folder with the host binaries: `BENCH_FUNCTIONS_DIR` when set, else the host release build (symbols kept) in
/// the harness's own target folder (built here, at nice 19; a no-op when fresh).
fn binaries() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("BENCH_FUNCTIONS_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let target_dir = own_target();
    eprintln!(
        "functions: cargo build --release -p processor -p orchestrator (host, nice 19, CARGO_TARGET_DIR={})",
        target_dir.display()
    );
    let mut build = cargo_niced();
    // Symbols kept (same code, not stripped) so `perf` and `nm` can name where start-up time and size go.
    build.current_dir(workspace_root()).env("CARGO_TARGET_DIR", &target_dir).env("CARGO_PROFILE_RELEASE_STRIP", "none");
    build.args(["build", "--release", "--locked", "-p", "processor", "-p", "orchestrator"]);
    run_timed(&mut build, "cargo build --release of the functions")?.check("cargo build --release of the functions")?;
    Ok(target_dir.join("release"))
}

fn run_function(binary: &Path, function: &str, extra: &[(&str, String)]) -> Result<ProcessRun> {
    let mut env = vec![
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "Text".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIABENCH00000000000".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "bench-not-a-secret".to_owned()),
        ("AWS_SESSION_TOKEN", "bench".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("PROCESSOR_FUNCTION_NAME", "processor".to_owned()),
        ("TZ", ":UTC".to_owned()),
    ];
    env.extend(extra.iter().cloned());
    let durable = function == "orchestrator";
    let event = move |n: u32| -> Vec<u8> {
        if !durable {
            return SEED_PAYLOAD.as_bytes().to_vec();
        }
        json!({
            "DurableExecutionArn": format!("arn:aws:lambda:us-east-1:123456789012:function:orchestrator:$LATEST/durable-execution/bench-{n}/0001"),
            "CheckpointToken": "token-0",
            "InitialExecutionState": {"Operations": [{
                "Id": "execution",
                "Type": "EXECUTION",
                "Status": "STARTED",
                "ExecutionDetails": {"InputPayload": SEED_PAYLOAD},
            }]},
        })
        .to_string()
        .into_bytes()
    };
    run_process(binary, &env, &event).with_context(|| format!("{function} under the harness's Runtime API"))
}

/// The Python originals: interpreter start, the SDK + boto3 import, and each handler module's start-up.
fn python_figures(runs: usize) -> Result<Vec<Figure>> {
    let python = python();
    if !python.is_file() {
        return Err(Error::msg(format!(
            "{} not found (set BENCH_PYTHON to a Python with boto3 and aws-durable-execution-sdk-python)",
            python.display()
        )));
    }
    let dir = workspace_root().join("target/bench/python");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("processor.py"), PROCESSOR_PY).context("cannot write processor.py")?;
    std::fs::write(dir.join("orchestrator.py"), ORCHESTRATOR_PY).context("cannot write orchestrator.py")?;
    let rss = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)";
    let cases = [
        ("python: interpreter start (-c pass)", format!("pass\n{rss}")),
        (
            "python: import boto3, aws_durable_execution_sdk_python",
            format!("import boto3, aws_durable_execution_sdk_python\n{rss}"),
        ),
        (
            "python: processor start to first result",
            format!("import processor\nprocessor.lambda_handler({{'values': [10, 20, 30, 40, 50]}}, None)\n{rss}"),
        ),
        ("python: orchestrator module import (SDK + boto3)", format!("import orchestrator\n{rss}")),
    ];
    let mut figures = Vec::new();
    // One unmeasured run so every case reads warm .pyc files and page cache, as the Rust binaries do.
    for (_, script) in &cases {
        let _ = python_run(&python, &dir, script);
    }
    for (name, script) in cases {
        let mut times = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..runs {
            let (elapsed, peak) = python_run(&python, &dir, &script)?;
            times.push(elapsed);
            peaks.push(peak);
        }
        figures.push(
            Figure::new(SUITE, name, "ms", times)
                .note(format!("{} -c, process start to exit, warm .pyc", python.display())),
        );
        figures.push(Figure::new(SUITE, format!("{name}: peak RSS"), "MiB", peaks));
    }
    Ok(figures)
}

fn python_run(python: &Path, dir: &Path, script: &str) -> Result<(f64, f64)> {
    let mut command = Command::new(python);
    command.current_dir(dir).env("PYTHONPATH", dir).args(["-c", script]);
    let timed = run_timed(&mut command, "python")?.check("the Python start-up script")?;
    let stdout = String::from_utf8_lossy(&timed.output.stdout);
    let kib: f64 = stdout.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(f64::NAN);
    Ok((ms(timed.elapsed), kib / 1024.0))
}
