//! `local`: the seed payload through the local target (`up --local`), sequential and with concurrent clients —
//! latency percentiles and executions per second — and where the time goes: our Lambda service's hop, the functions
//! (the `REPORT` lines the service writes) and the durable engine (the execution's history timestamps).
//!
//! The local service exposes no per-hop timings (its `/_local/status` route has only invocation counts), so the
//! split is computed from what can be observed: client latency, the service's `REPORT` durations, and the engine's
//! own timestamps.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::deployer;
use crate::env::{ms, workspace_copy, workspace_root};
use crate::error::{Context, Error, Result};
use crate::http;
use crate::stats::{Figure, Target, summarize};

use super::Options;
use super::functions::SEED_PAYLOAD;

const SUITE: &str = "local";

/// The running local target of the suite's workspace copy.
struct Local {
    work: PathBuf,
    authority: String,
    alias_arn: String,
    processor_arn: String,
    binary: PathBuf,
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = deployer::run(&self.binary, &self.work, &["down", "--local"], &[]);
    }
}

/// Runs the suite.
pub fn run(options: &Options) -> Result<Vec<Figure>> {
    let local = start(options)?;
    // Warm-up: start the function processes and the engine's code paths.
    for _ in 0..3 {
        invoke_durable(&local)?;
    }
    let logs = Logs::new(&local);
    let before = logs.counts()?;
    let mut figures = Vec::new();
    let (sequential, executions) = load(&local, options.requests, 1)?;
    let after = logs.counts()?;
    let orchestrator_runs = logs.orchestrator()?.get(before.0..after.0).unwrap_or_default().to_vec();
    let processor_runs = logs.processor()?.get(before.1..after.1).unwrap_or_default().to_vec();
    figures.extend(level_figures("sequential", &sequential));
    let (concurrent, _) = load(&local, options.requests.max(options.concurrency), options.concurrency)?;
    figures.extend(level_figures(&format!("{} concurrent clients", options.concurrency), &concurrent));
    let per_execution =
        PerExecution { latencies: &sequential.latencies, arns: &executions, orchestrator_runs, processor_runs };
    figures.extend(split(&local, &logs, &per_execution)?);
    Ok(figures)
}

/// The two functions' logs in the copy's state folder.
struct Logs {
    orchestrator: PathBuf,
    processor: PathBuf,
}

impl Logs {
    fn new(local: &Local) -> Self {
        let dir = local.work.join(".deployer/local/logs");
        Self {
            orchestrator: dir.join(format!("{}.log", function_name(&local.alias_arn))),
            processor: dir.join(format!("{}.log", function_name(&local.processor_arn))),
        }
    }

    fn orchestrator(&self) -> Result<Vec<f64>> {
        report_durations(&self.orchestrator)
    }

    fn processor(&self) -> Result<Vec<f64>> {
        report_durations(&self.processor)
    }

    /// `(orchestrator, processor)` REPORT lines so far.
    fn counts(&self) -> Result<(usize, usize)> {
        Ok((self.orchestrator()?.len(), self.processor()?.len()))
    }
}

/// The sequential executions, in order, with the REPORT durations written while they ran (two orchestrator
/// invocations and one processor invocation each).
struct PerExecution<'a> {
    latencies: &'a [f64],
    arns: &'a [String],
    orchestrator_runs: Vec<f64>,
    processor_runs: Vec<f64>,
}

fn start(options: &Options) -> Result<Local> {
    let (binary, how) = deployer::binary(options.deployer.as_deref())?;
    let root = workspace_root();
    let work = workspace_copy()?;
    // Share the engine's virtualenv with the workspace instead of installing it again.
    let tools = work.join(".deployer/tools");
    if !tools.exists() && root.join(".deployer/tools").is_dir() {
        std::fs::create_dir_all(work.join(".deployer")).context("cannot create the copy's .deployer")?;
        std::os::unix::fs::symlink(root.join(".deployer/tools"), &tools).context("cannot link the engine's tools")?;
    }
    let envs = [("CARGO_TARGET_DIR", crate::env::copy_target_dir().display().to_string())];
    eprintln!("local: deployer {how}; up --local in {}", work.display());
    let up = deployer::run(&binary, &work, &["up", "--local"], &envs)?;
    let mut outputs = serde_json::Map::new();
    for (_, event) in up.named("outputs") {
        if let Some(map) = event.get("outputs").and_then(Value::as_object) {
            outputs.extend(map.clone());
        }
    }
    let output = |key: &str| {
        outputs
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("up --local printed no {key}"))
    };
    let endpoint = up
        .named("value")
        .filter_map(|(_, e)| e.get("text").and_then(Value::as_str))
        .find_map(|t| t.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_owned))
        .context("up --local printed no endpoint")?;
    Ok(Local {
        authority: http::authority(&endpoint).to_owned(),
        alias_arn: output("DurableLambdaFunctionAliasArn")?,
        processor_arn: output("ProcessorFunctionArn")?,
        work,
        binary,
    })
}

/// One `RequestResponse` Invoke of `function`; returns the latency (ms) and the response.
fn invoke(local: &Local, function: &str) -> Result<(f64, http::Message)> {
    let path = format!("/2015-03-31/functions/{}/invocations", http::encode_segment(function));
    let headers = [("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse")];
    let start = Instant::now();
    let reply =
        http::request(&local.authority, "POST", &path, &headers, SEED_PAYLOAD.as_bytes(), Duration::from_mins(2))?;
    let elapsed = ms(start.elapsed());
    if reply.status() != 200 || reply.header("x-amz-function-error").is_some() {
        return Err(Error::msg(format!("invoke of {function} failed ({}): {}", reply.status(), reply.text())));
    }
    Ok((elapsed, reply))
}

/// The seed payload through the alias; returns the latency and the execution's ARN.
fn invoke_durable(local: &Local) -> Result<(f64, String)> {
    let (elapsed, reply) = invoke(local, &local.alias_arn)?;
    if !reply.text().contains("Durable orchestration completed successfully") {
        return Err(Error::msg(format!("unexpected result: {}", reply.text())));
    }
    let arn = reply.header("x-amz-durable-execution-arn").unwrap_or_default().to_owned();
    Ok((elapsed, arn))
}

/// `total` executions over `clients` threads. Returns each latency and execution ARN, and the wall time.
fn load(local: &Local, total: usize, clients: usize) -> Result<(Level, Vec<String>)> {
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            let (next, results) = (next.clone(), results.clone());
            scope.spawn(move || {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    let result = invoke_durable(local);
                    if let Ok(mut r) = results.lock() {
                        r.push(result);
                    }
                }
            });
        }
    });
    let wall = start.elapsed();
    let results = std::mem::take(&mut *results.lock().map_err(|_| Error::msg("a client thread panicked"))?);
    let mut latencies = Vec::new();
    let mut arns = Vec::new();
    for result in results {
        let (latency, arn) = result?;
        latencies.push(latency);
        arns.push(arn);
    }
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let per_second = latencies.len() as f64 / wall.as_secs_f64();
    Ok((Level { latencies, per_second }, arns))
}

/// One load level's measurements.
struct Level {
    latencies: Vec<f64>,
    per_second: f64,
}

fn level_figures(level: &str, measured: &Level) -> Vec<Figure> {
    let mut latency = Figure::new(SUITE, format!("{level}: end-to-end latency"), "ms", measured.latencies.clone())
        .note("client POST Invoke (RequestResponse) of the live alias to its result; p99 in the JSON");
    if level == "sequential" {
        latency = latency.target(Target::AtMost(150.0));
    }
    let s = summarize(&measured.latencies);
    vec![
        latency,
        Figure::new(SUITE, format!("{level}: p99 latency"), "ms", vec![s.p99]),
        Figure::new(SUITE, format!("{level}: executions per second"), "1/s", vec![measured.per_second]),
    ]
}

/// Where the time of a sequential execution goes.
fn split(local: &Local, logs: &Logs, runs: &PerExecution<'_>) -> Result<Vec<Figure>> {
    // Our service's hop: a plain Invoke of the processor, client latency minus the service's own REPORT duration.
    let direct = 30;
    let before = logs.processor()?.len();
    let mut direct_latency = Vec::new();
    for _ in 0..direct {
        direct_latency.push(invoke(local, &local.processor_arn)?.0);
    }
    let direct_reports = logs.processor()?.get(before..).unwrap_or_default().to_vec();
    let hop: Vec<f64> = direct_latency.iter().zip(&direct_reports).map(|(l, r)| l - r).collect();
    // The durable API forwarded by our service vs asked of the engine directly.
    let (through_us, direct_engine) = forward_cost(local, runs.arns.last().map_or("", String::as_str))?;
    // Per execution: engine timestamps and the functions' REPORT durations.
    let mut engine_span = Vec::new();
    let mut outside = Vec::new();
    let mut functions = Vec::new();
    let mut engine_inside = Vec::new();
    let mut sample = String::new();
    let mut phases: [Vec<f64>; 4] = Default::default();
    for (i, (arn, latency)) in runs.arns.iter().zip(runs.latencies).enumerate() {
        let history = history(local, arn)?;
        if let Some(found) = engine_phases(&history) {
            for (all, one) in phases.iter_mut().zip(found) {
                all.push(one);
            }
        }
        let orchestrator: f64 = runs.orchestrator_runs.get(2 * i..2 * i + 2).map_or(f64::NAN, |r| r.iter().sum());
        let processor = runs.processor_runs.get(i).copied().unwrap_or(f64::NAN);
        functions.push(orchestrator + processor);
        if let Some(span) = execution_span_ms(&history) {
            engine_span.push(span);
            outside.push(latency - span);
            engine_inside.push(span - orchestrator - processor);
        }
        if sample.is_empty() {
            sample = describe_history(&history);
        }
    }
    let orchestrator_pairs: Vec<f64> = runs.orchestrator_runs.chunks(2).map(|c| c.iter().sum()).collect();
    let [dispatch, checkpoint, chained, resume] = phases;
    Ok(vec![
        Figure::new(SUITE, "engine: start → first checkpoint (StepStarted)", "ms", dispatch)
            .note("the engine invokes the orchestrator through our endpoint; the SDK starts and sends STEP START"),
        Figure::new(SUITE, "engine: one checkpoint round trip", "ms", checkpoint).note(
            "StepSucceeded → ChainedInvokeStarted: no user code between, only the SDK's next checkpoint through our forward to the engine",
        ),
        Figure::new(SUITE, "engine: chained invoke of the processor", "ms", chained)
            .note("ChainedInvokeStarted → ChainedInvokeSucceeded: the engine schedules and invokes the processor through our endpoint"),
        Figure::new(SUITE, "engine: resume to the end (replay invocation)", "ms", resume)
            .note("ChainedInvokeSucceeded → the second InvocationCompleted: the engine re-invokes the orchestrator, which replays and returns"),
        Figure::new(SUITE, "split: our service per Invoke hop", "ms", hop).target(Target::AtMost(2.0)).note(
            "plain Invoke of the processor: client latency minus the REPORT duration the service logs around the Runtime API exchange",
        ),
        Figure::new(SUITE, "split: durable API call through our service", "ms", through_us)
            .note("GetDurableExecution via the local endpoint (our forward to the engine)"),
        Figure::new(SUITE, "split: durable API call to the engine directly", "ms", direct_engine)
            .note("the same call on the engine's own port: the difference is our forward's cost per checkpoint"),
        Figure::new(SUITE, "split: processor run (REPORT)", "ms", runs.processor_runs.clone()),
        Figure::new(SUITE, "split: orchestrator runs per execution (2 × REPORT)", "ms", orchestrator_pairs).note(
            "both invocations of the durable handler (debug build, as `up --local` builds), with their 3 checkpoint calls through our service to the engine",
        ),
        Figure::new(SUITE, "split: functions per execution (3 REPORTs)", "ms", functions),
        Figure::new(SUITE, "split: engine span (ExecutionStarted → ExecutionSucceeded)", "ms", engine_span)
            .note(format!("from the engine's history (ms timestamps); one execution: {sample}")),
        Figure::new(SUITE, "split: engine span minus the functions", "ms", engine_inside).note(
            "the engine's own scheduling and store work between invocations, plus our service's 3 Invoke hops",
        ),
        Figure::new(SUITE, "split: outside the engine span", "ms", outside).note(
            "end-to-end minus engine span: our Invoke handling, the start call, and the wait for the result (GetDurableExecution 2 ms after the handler returns its final envelope; otherwise every 10 ms, growing ×1.5 to 50 ms)",
        ),
    ])
}

/// `GetDurableExecution` of `arn` 30 times through our endpoint and 30 times on the engine's port.
fn forward_cost(local: &Local, arn: &str) -> Result<(Vec<f64>, Vec<f64>)> {
    let daemon: Value = serde_json::from_slice(
        &std::fs::read(local.work.join(".deployer/local/daemon.json"))
            .context("cannot read the daemon's daemon.json")?,
    )
    .context("daemon.json is not JSON")?;
    let engine_port = daemon.get("engine_port").and_then(Value::as_u64).context("daemon.json has no engine_port")?;
    let engine = format!("127.0.0.1:{engine_port}");
    let path = format!("/2025-12-01/durable-executions/{}", http::encode_segment(arn));
    let measure = |authority: &str| -> Result<Vec<f64>> {
        let mut times = Vec::new();
        for _ in 0..30 {
            let start = Instant::now();
            let reply = http::request(authority, "GET", &path, &[], b"", Duration::from_secs(30))?;
            times.push(ms(start.elapsed()));
            if reply.status() != 200 {
                return Err(Error::msg(format!(
                    "GetDurableExecution on {authority} failed ({}): {}",
                    reply.status(),
                    reply.text()
                )));
            }
        }
        Ok(times)
    };
    Ok((measure(&local.authority)?, measure(&engine)?))
}

fn function_name(arn: &str) -> String {
    arn.split(':').nth(6).unwrap_or(arn).to_owned()
}

/// The `Duration: X ms` of every `REPORT` line of a function log, in order.
fn report_durations(log: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("REPORT "))
        .filter_map(|l| l.split("Duration: ").nth(1)?.split(' ').next()?.parse().ok())
        .collect())
}

fn history(local: &Local, arn: &str) -> Result<Value> {
    let path = format!("/2025-12-01/durable-executions/{}/history", http::encode_segment(arn));
    let reply = http::request(&local.authority, "GET", &path, &[], b"", Duration::from_secs(30))?;
    if reply.status() != 200 {
        return Err(Error::msg(format!("history of {arn} failed ({}): {}", reply.status(), reply.text())));
    }
    serde_json::from_slice(&reply.body).context("the history is not JSON")
}

/// A history timestamp in ms: epoch seconds (possibly fractional), epoch ms, or RFC 3339 text is not parsed.
fn timestamp_ms(event: &Value) -> Option<f64> {
    let value = event.get("EventTimestamp")?.as_f64()?;
    Some(if value > 1e12 { value } else { value * 1000.0 })
}

fn events(history: &Value) -> Vec<Value> {
    history.get("Events").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn execution_span_ms(history: &Value) -> Option<f64> {
    let events = events(history);
    let at = |kind: &str| {
        events.iter().find(|e| e.get("EventType").and_then(Value::as_str) == Some(kind)).and_then(timestamp_ms)
    };
    Some(at("ExecutionSucceeded")? - at("ExecutionStarted")?)
}

/// `[start → StepStarted, StepSucceeded → ChainedInvokeStarted, ChainedInvokeStarted → ChainedInvokeSucceeded,
/// ChainedInvokeSucceeded → last InvocationCompleted]` in ms.
fn engine_phases(history: &Value) -> Option<[f64; 4]> {
    let events = events(history);
    let first = |kind: &str| {
        events.iter().find(|e| e.get("EventType").and_then(Value::as_str) == Some(kind)).and_then(timestamp_ms)
    };
    let last = |kind: &str| {
        events.iter().rev().find(|e| e.get("EventType").and_then(Value::as_str) == Some(kind)).and_then(timestamp_ms)
    };
    let started = first("ExecutionStarted")?;
    let step = first("StepStarted")?;
    let invoke = first("ChainedInvokeStarted")?;
    let invoked = first("ChainedInvokeSucceeded")?;
    Some([step - started, invoke - first("StepSucceeded")?, invoked - invoke, last("InvocationCompleted")? - invoked])
}

/// `ExecutionStarted +0, StepStarted +12, ...` for one execution.
fn describe_history(history: &Value) -> String {
    let events = events(history);
    let first = events.first().and_then(timestamp_ms).unwrap_or(0.0);
    events
        .iter()
        .map(|e| {
            let kind = e.get("EventType").and_then(Value::as_str).unwrap_or("?");
            timestamp_ms(e).map_or_else(|| kind.to_owned(), |t| format!("{kind} +{:.0}", t - first))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
