//! Our engine: `deployer up --local` in the harness's workspace copy, driven with `RequestResponse` Invokes of the
//! live alias as a user's client would, and where the time of an execution goes (the `REPORT` lines the service
//! writes, the history's timestamps).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::deployer;
use crate::env::{copy_target_dir, ms, workspace_copy};
use crate::error::{Context, Error, Result};
use crate::http;
use crate::stats::{Figure, Goal};

use super::super::functions::SEED_PAYLOAD;
use super::SUITE;

/// The service of the copy, with every engine command logged as a span with its busy time.
const SERVICE_LOG_ENV: [(&str, &str); 3] =
    [("DEPLOYER_LOG", "local=debug"), ("DEPLOYER_LOG_SPANS", "1"), ("NO_COLOR", "1")];

/// The running local target of the suite's workspace copy; stopped (`down --local`) when dropped.
pub struct Ours {
    work: PathBuf,
    authority: String,
    alias_arn: String,
    processor_arn: String,
    binary: PathBuf,
}

impl Drop for Ours {
    fn drop(&mut self) {
        let _ = deployer::run(&self.binary, &self.work, &["down", "--local"], &[]);
    }
}

impl Ours {
    /// `up --local` in the workspace copy, from an empty state folder.
    pub fn start(explicit_deployer: Option<&Path>) -> Result<Self> {
        let (binary, how) = deployer::binary(explicit_deployer)?;
        let work = workspace_copy()?;
        // A clean start: a service left by an earlier run would keep its executions and run without the span log
        // this suite reads.
        deployer::run(&binary, &work, &["down", "--local"], &[])?;
        let mut envs = vec![("CARGO_TARGET_DIR", copy_target_dir().display().to_string())];
        envs.extend(SERVICE_LOG_ENV.iter().map(|(k, v)| (*k, (*v).to_owned())));
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
            .named("endpoint")
            .find_map(|(_, e)| e.get("url").and_then(Value::as_str).map(str::to_owned))
            .context("up --local printed no endpoint")?;
        Ok(Self {
            authority: http::authority(&endpoint).to_owned(),
            alias_arn: output("DurableLambdaFunctionAliasArn")?,
            processor_arn: output("ProcessorFunctionArn")?,
            work,
            binary,
        })
    }

    /// The copy's state folder, `.deployer/local`.
    pub fn state_dir(&self) -> PathBuf {
        self.work.join(".deployer/local")
    }

    /// The service's own log, where the engine's spans close.
    pub fn daemon_log(&self) -> PathBuf {
        self.state_dir().join("daemon.log")
    }

    /// The service's process id, from `daemon.json`.
    pub fn pid(&self) -> Result<u32> {
        let path = self.state_dir().join("daemon.json");
        let daemon: Value = serde_json::from_slice(&std::fs::read(&path).context("cannot read daemon.json")?)
            .context("daemon.json is not JSON")?;
        daemon.get("pid").and_then(Value::as_u64).and_then(|p| u32::try_from(p).ok()).context("daemon.json has no pid")
    }

    /// One `RequestResponse` Invoke of `function`; returns the latency (ms) and the response.
    fn invoke(&self, function: &str) -> Result<(f64, http::Message)> {
        let path = format!("/2015-03-31/functions/{}/invocations", http::encode_segment(function));
        let headers = [("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse")];
        let start = Instant::now();
        let reply =
            http::request(&self.authority, "POST", &path, &headers, SEED_PAYLOAD.as_bytes(), Duration::from_mins(2))?;
        let elapsed = ms(start.elapsed());
        if reply.status() != 200 || reply.header("x-amz-function-error").is_some() {
            return Err(Error::msg(format!("invoke of {function} failed ({}): {}", reply.status(), reply.text())));
        }
        Ok((elapsed, reply))
    }

    /// The seed payload through the alias; returns the latency and the execution's ARN.
    pub fn execute(&self) -> Result<(f64, String)> {
        let (elapsed, reply) = self.invoke(&self.alias_arn)?;
        if !reply.text().contains("Durable orchestration completed successfully") {
            return Err(Error::msg(format!("unexpected result: {}", reply.text())));
        }
        let arn = reply.header("x-amz-durable-execution-arn").unwrap_or_default().to_owned();
        Ok((elapsed, arn))
    }

    /// The two functions' logs in the copy's state folder.
    pub fn logs(&self) -> Logs {
        let dir = self.state_dir().join("logs");
        Logs {
            orchestrator: dir.join(format!("{}.log", function_name(&self.alias_arn))),
            processor: dir.join(format!("{}.log", function_name(&self.processor_arn))),
        }
    }

    fn history(&self, arn: &str) -> Result<Value> {
        history(&self.authority, arn)
    }
}

/// The two functions' log files.
pub struct Logs {
    orchestrator: PathBuf,
    processor: PathBuf,
}

impl Logs {
    fn orchestrator(&self) -> Result<Vec<f64>> {
        report_durations(&self.orchestrator)
    }

    fn processor(&self) -> Result<Vec<f64>> {
        report_durations(&self.processor)
    }

    /// `(orchestrator, processor)` REPORT lines so far.
    pub fn counts(&self) -> Result<(usize, usize)> {
        Ok((self.orchestrator()?.len(), self.processor()?.len()))
    }

    /// The REPORT durations written since `before` (from [`Logs::counts`]), for [`Sequential`].
    pub fn since(&self, before: (usize, usize)) -> Result<(Vec<f64>, Vec<f64>)> {
        Ok((
            self.orchestrator()?.get(before.0..).unwrap_or_default().to_vec(),
            self.processor()?.get(before.1..).unwrap_or_default().to_vec(),
        ))
    }
}

/// One sequential batch of executions, in order, with the REPORT durations written while it ran (two orchestrator
/// invocations and one processor invocation each).
pub struct Sequential {
    /// End-to-end latencies.
    pub latencies: Vec<f64>,
    /// Execution ARNs.
    pub arns: Vec<String>,
    /// The orchestrator's REPORT durations.
    pub orchestrator_runs: Vec<f64>,
    /// The processor's REPORT durations.
    pub processor_runs: Vec<f64>,
}

/// Where the time of a sequential execution goes, over every sequential batch.
pub fn split(ours: &Ours, batches: &[Sequential]) -> Result<Vec<Figure>> {
    // Our service's hop: a plain Invoke of the processor, client latency minus the service's own REPORT duration.
    let logs = ours.logs();
    let before = logs.processor()?.len();
    let mut direct_latency = Vec::new();
    for _ in 0..30 {
        direct_latency.push(ours.invoke(&ours.processor_arn)?.0);
    }
    let direct_reports = logs.processor()?.get(before..).unwrap_or_default().to_vec();
    let hop: Vec<f64> = direct_latency.iter().zip(&direct_reports).map(|(l, r)| l - r).collect();
    let durable_call = get_execution_times(&ours.authority, batches.iter().find_map(|b| b.arns.last()))?;
    let mut engine_span = Vec::new();
    let mut outside = Vec::new();
    let mut functions = Vec::new();
    let mut engine_inside = Vec::new();
    let mut orchestrator_pairs = Vec::new();
    let mut processor_runs = Vec::new();
    let mut sample = String::new();
    let mut phases: [Vec<f64>; 4] = Default::default();
    let mut misaligned = 0;
    for batch in batches {
        // A batch whose logs hold another count of REPORT lines (a crashed and retried invocation) cannot be paired
        // with its executions by order; its history phases still count.
        let aligned =
            batch.orchestrator_runs.len() == 2 * batch.arns.len() && batch.processor_runs.len() == batch.arns.len();
        if aligned {
            orchestrator_pairs.extend(batch.orchestrator_runs.chunks(2).map(|c| c.iter().sum::<f64>()));
            processor_runs.extend_from_slice(&batch.processor_runs);
        } else {
            misaligned += 1;
        }
        for (i, (arn, latency)) in batch.arns.iter().zip(&batch.latencies).enumerate() {
            let history = ours.history(arn)?;
            if let Some(found) = engine_phases(&history) {
                for (all, one) in phases.iter_mut().zip(found) {
                    all.push(one);
                }
            }
            if sample.is_empty() {
                sample = describe_history(&history);
            }
            let Some(span) = execution_span_ms(&history) else { continue };
            engine_span.push(span);
            outside.push(latency - span);
            if aligned {
                let orchestrator: f64 = batch.orchestrator_runs.get(2 * i..2 * i + 2).map_or(0.0, |r| r.iter().sum());
                let processor = batch.processor_runs.get(i).copied().unwrap_or_default();
                functions.push(orchestrator + processor);
                engine_inside.push(span - orchestrator - processor);
            }
        }
    }
    if misaligned > 0 {
        eprintln!("local: {misaligned} sequential batch(es) left out of the REPORT split: unexpected REPORT count");
    }
    let [dispatch, checkpoint, chained, resume] = phases;
    Ok(vec![
        Figure::new(SUITE, "ours: phase: start → first checkpoint (StepStarted)", "ms", dispatch)
            .note("history timestamps (ms): the engine has the orchestrator invoked, the SDK starts and sends STEP START"),
        Figure::new(SUITE, "ours: phase: one checkpoint round trip", "ms", checkpoint).note(
            "StepSucceeded → ChainedInvokeStarted: no user code between, only the SDK's next checkpoint call to our service",
        ),
        Figure::new(SUITE, "ours: phase: chained invoke of the processor", "ms", chained)
            .note("ChainedInvokeStarted → ChainedInvokeSucceeded: the service invokes the processor and reports to the engine"),
        Figure::new(SUITE, "ours: phase: resume to the end (replay invocation)", "ms", resume).note(
            "ChainedInvokeSucceeded → the second InvocationCompleted: the orchestrator invoked again, replays and returns",
        ),
        Figure::new(SUITE, "ours: split: our service per Invoke hop", "ms", hop).target(Goal::AtMost(2.0)).note(
            "plain Invoke of the processor: client latency minus the REPORT duration the service logs around the Runtime API exchange",
        ),
        Figure::new(SUITE, "ours: split: GetDurableExecution round trip", "ms", durable_call)
            .note("a durable API read through our endpoint, new connection each time"),
        Figure::new(SUITE, "ours: split: processor run (REPORT)", "ms", processor_runs),
        Figure::new(SUITE, "ours: split: orchestrator runs per execution (2 × REPORT)", "ms", orchestrator_pairs).note(
            "both invocations of the durable handler (debug build, as `up --local` builds), with their 3 checkpoint calls",
        ),
        Figure::new(SUITE, "ours: split: functions per execution (3 REPORTs)", "ms", functions),
        Figure::new(SUITE, "ours: split: engine span (ExecutionStarted → ExecutionSucceeded)", "ms", engine_span)
            .note(format!("from the history (ms timestamps); one execution: {sample}")),
        Figure::new(SUITE, "ours: split: engine span minus the functions", "ms", engine_inside)
            .note("the engine's commands and the service's scheduling between invocations, with its 3 Invoke hops"),
        Figure::new(SUITE, "ours: split: outside the engine span", "ms", outside).note(
            "end-to-end minus engine span: the client's connection, our Invoke handling, the start command, and the \
             wake-up of the waiting Invoke when the execution ends",
        ),
    ])
}

/// `GetDurableExecution` of `arn` 30 times at `authority`, each on a new connection.
pub fn get_execution_times(authority: &str, arn: Option<&String>) -> Result<Vec<f64>> {
    let Some(arn) = arn else { return Ok(Vec::new()) };
    let path = format!("/2025-12-01/durable-executions/{}", http::encode_segment(arn));
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

/// `GetDurableExecutionHistory` of `arn` at `authority`.
pub fn history(authority: &str, arn: &str) -> Result<Value> {
    let path = format!("/2025-12-01/durable-executions/{}/history", http::encode_segment(arn));
    let reply = http::request(authority, "GET", &path, &[], b"", Duration::from_secs(30))?;
    if reply.status() != 200 {
        return Err(Error::msg(format!("history of {arn} failed ({}): {}", reply.status(), reply.text())));
    }
    serde_json::from_slice(&reply.body).context("the history is not JSON")
}

/// A history timestamp in ms: epoch seconds (possibly fractional) or epoch ms; RFC 3339 text is not parsed.
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
pub fn engine_phases(history: &Value) -> Option<[f64; 4]> {
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
pub fn describe_history(history: &Value) -> String {
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
