//! `local`: the seed payload through the local target, on our engine and on AWS's emulator (dex) in the same run —
//! executions per second and end-to-end latency, sequential and with concurrent clients — then where our time goes:
//! the engine's own time per command (its tracing spans), the service's memory with 1,000 executions stored, our
//! Invoke hop, the functions' `REPORT` durations and the history's phases.
//!
//! Each of the `--runs` rounds runs `--requests` executions per engine and load level, our engine then dex at each
//! level, so that a change of load on the shared machine hits both sides of a ratio alike.

mod dex;
mod ours;
mod spans;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use local::Supervisor;
use tokio::runtime::Runtime;

use crate::env::copy_target_dir;
use crate::error::{Context, Error, Result};
use crate::stats::{Figure, Goal, percentile};

use super::Options;

const SUITE: &str = "local";

/// Executions the store holds when the service's memory is read.
const STORED_FOR_RSS: usize = 1_000;

/// Sequential executions of dex whose histories give its phases.
const DEX_HISTORIES: usize = 50;

/// One execution as its client saw it.
pub struct Sample {
    /// Request sent to result seen, ms.
    pub latency: f64,
    /// The execution's ARN.
    pub arn: String,
    /// `GetDurableExecution` calls it took to see the end (0: the call returned the result).
    pub polls: usize,
}

/// One load level of one round.
struct Level {
    latencies: Vec<f64>,
    arns: Vec<String>,
    polls: Vec<usize>,
    per_second: f64,
}

/// Every round of one engine, by load level.
#[derive(Default)]
struct Levels {
    sequential: Vec<Level>,
    concurrent: Vec<Level>,
}

impl Levels {
    /// Level 0 is the sequential one.
    fn push(&mut self, index: usize, level: Level) {
        if index == 0 { self.sequential.push(level) } else { self.concurrent.push(level) }
    }

    fn all(&self) -> impl Iterator<Item = &Level> {
        self.sequential.iter().chain(&self.concurrent)
    }
}

/// Runs the suite.
pub fn run(options: &Options) -> Result<Vec<Figure>> {
    let ours = ours::Ours::start(options.deployer.as_deref())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start an async runtime")?;
    // The very function binaries `up --local` just built for our side.
    let poll = Duration::from_millis(options.dex_poll_ms);
    let theirs = dex::DexSide::start(&rt, &copy_target_dir().join("debug"), poll)?;
    let ours_one = || ours.execute().map(|(latency, arn)| Sample { latency, arn, polls: 0 });
    let dex_one = || theirs.execute();
    // Warm-up: the function processes and both engines' code paths.
    for _ in 0..3 {
        ours_one()?;
        dex_one()?;
    }
    let warm = (stored(&rt, &ours)?, memory(ours.pid()?)?);
    let logs = ours.logs();
    let concurrent = format!("{} concurrent clients", options.concurrency);
    let mut ours_levels = Levels::default();
    let mut dex_levels = Levels::default();
    let mut batches = Vec::new();
    let mut span_logs = [String::new(), String::new()];
    for round in 1..=options.runs {
        eprintln!("local: round {round}/{}", options.runs);
        for (index, clients) in [1, options.concurrency].into_iter().enumerate() {
            let total = options.requests.max(clients);
            let log_before = log_len(&ours.daemon_log());
            let reports_before = logs.counts()?;
            let level = load(total, clients, &ours_one)?;
            if let Some(text) = span_logs.get_mut(index) {
                text.push_str(&log_since(&ours.daemon_log(), log_before)?);
            }
            if index == 0 {
                let (orchestrator_runs, processor_runs) = logs.since(reports_before)?;
                batches.push(ours::Sequential {
                    latencies: level.latencies.clone(),
                    arns: level.arns.clone(),
                    orchestrator_runs,
                    processor_runs,
                });
            }
            ours_levels.push(index, level);
            dex_levels.push(index, load(total, clients, &dex_one)?);
        }
    }
    let mut figures = Vec::new();
    figures.extend(level_figures("ours", "sequential", &ours_levels.sequential, Some(Goal::AtMost(30.0)), None));
    figures.extend(level_figures("dex", "sequential", &dex_levels.sequential, None, None));
    figures.extend(level_figures("ours", &concurrent, &ours_levels.concurrent, None, Some(Goal::AtMost(300.0))));
    figures.extend(level_figures("dex", &concurrent, &dex_levels.concurrent, None, None));
    figures.push(
        Figure::new(
            SUITE,
            format!("ours / dex: executions per second, {concurrent}"),
            "x",
            ratios(&ours_levels.concurrent, &dex_levels.concurrent),
        )
        .target(Goal::AtLeast(10.0))
        .note("one ratio per round, of two levels measured back to back"),
    );
    figures.push(Figure::new(
        SUITE,
        "ours / dex: executions per second, sequential",
        "x",
        ratios(&ours_levels.sequential, &dex_levels.sequential),
    ));
    figures.extend(dex_poll_figures(&theirs, &dex_levels, poll)?);
    for (index, text) in span_logs.iter().enumerate() {
        figures.extend(span_figures(if index == 0 { "sequential" } else { &concurrent }, text));
    }
    let dex_executions = 3 + dex_levels.all().map(|l| l.arns.len()).sum::<usize>();
    figures.extend(memory_figures(&rt, &ours, &theirs, warm, options.concurrency, dex_executions)?);
    figures.extend(ours::split(&ours, &batches)?);
    let dex_arns: Vec<&String> = dex_levels.sequential.iter().flat_map(|l| &l.arns).take(DEX_HISTORIES).collect();
    figures.extend(dex_phases(&theirs, &dex_arns)?);
    Ok(figures)
}

/// `total` executions over `clients` threads; each latency and ARN, and executions per second of wall time.
fn load(total: usize, clients: usize, one: &(dyn Fn() -> Result<Sample> + Sync)) -> Result<Level> {
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            let (next, results) = (next.clone(), results.clone());
            scope.spawn(move || {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    let result = one();
                    if let Ok(mut r) = results.lock() {
                        r.push(result);
                    }
                }
            });
        }
    });
    let wall = start.elapsed();
    let results = std::mem::take(&mut *results.lock().map_err(|_| Error::msg("a client thread panicked"))?);
    let mut level = Level { latencies: Vec::new(), arns: Vec::new(), polls: Vec::new(), per_second: 0.0 };
    for result in results {
        let sample = result?;
        level.latencies.push(sample.latency);
        level.arns.push(sample.arn);
        level.polls.push(sample.polls);
    }
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let per_second = level.latencies.len() as f64 / wall.as_secs_f64();
    level.per_second = per_second;
    Ok(level)
}

/// Latency (every execution of every round), p99 and executions per second (one per round) of one engine at one
/// load level.
fn level_figures(engine: &str, level: &str, rounds: &[Level], p50: Option<Goal>, p99: Option<Goal>) -> Vec<Figure> {
    let how = if engine == "dex" {
        "StartDurableExecution on dex, then its GetDurableExecution polled until the execution is no longer RUNNING"
    } else {
        "client POST Invoke (RequestResponse) of the live alias until its result"
    };
    let mut latency = Figure::new(
        SUITE,
        format!("{engine}: {level}: end-to-end latency"),
        "ms",
        rounds.iter().flat_map(|l| l.latencies.iter().copied()).collect(),
    )
    .note(format!("{how}; every execution of every round (the median is the p50; p99 in the JSON)"));
    let mut tail = Figure::new(
        SUITE,
        format!("{engine}: {level}: p99 latency"),
        "ms",
        rounds
            .iter()
            .map(|l| {
                let mut sorted = l.latencies.clone();
                sorted.sort_by(f64::total_cmp);
                percentile(&sorted, 0.99)
            })
            .collect(),
    )
    .note("one p99 per round");
    if let Some(target) = p50 {
        latency = latency.target(target);
    }
    if let Some(target) = p99 {
        tail = tail.target(target);
    }
    vec![
        latency,
        tail,
        Figure::new(
            SUITE,
            format!("{engine}: {level}: executions per second"),
            "1/s",
            rounds.iter().map(|l| l.per_second).collect(),
        )
        .note("executions finished over the level's wall time, one value per round"),
    ]
}

/// Round by round, ours over dex's executions per second.
fn ratios(ours: &[Level], dex: &[Level]) -> Vec<f64> {
    ours.iter().zip(dex).map(|(o, d)| o.per_second / d.per_second).collect()
}

/// What the polling of dex costs: calls per execution, and one call's round trip.
fn dex_poll_figures(theirs: &dex::DexSide<'_>, levels: &Levels, poll: Duration) -> Result<Vec<Figure>> {
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let polls: Vec<f64> = levels.all().flat_map(|l| l.polls.iter().map(|p| *p as f64)).collect();
    let arn = levels.all().find_map(|l| l.arns.last());
    Ok(vec![
        Figure::new(SUITE, "dex: GetDurableExecution polls per execution", "count", polls).note(format!(
            "each dex client sleeps {} ms, then asks on a new connection, until the execution is no longer RUNNING: \
             dex's latencies include up to one interval and one poll more than the execution, and the polls take \
             some of dex's CPU",
            poll.as_millis()
        )),
        Figure::new(
            SUITE,
            "dex: GetDurableExecution round trip",
            "ms",
            ours::get_execution_times(&theirs.authority, arn)?,
        )
        .note("one poll, dex otherwise idle"),
    ])
}

/// The busy time of each engine span closed in `log`; `engine.checkpoint` has its target.
fn span_figures(level: &str, log: &str) -> Vec<Figure> {
    spans::engine_busy_ms(log)
        .into_iter()
        .map(|(name, busy)| {
            let figure = Figure::new(SUITE, format!("ours: {name} busy time, {level}"), "ms", busy);
            if name == "engine.checkpoint" {
                figure.target(Goal::AtMost(1.0)).note(
                    "time.busy of the span (DEPLOYER_LOG=local=debug DEPLOYER_LOG_SPANS=1): the command's store \
                     transaction and decisions, without the wait for the engine's lock; one sample per checkpoint",
                )
            } else {
                figure
            }
        })
        .collect()
}

/// The service's memory after the warm-up and with at least [`STORED_FOR_RSS`] finished executions stored (more
/// executions run first when the rounds stored fewer), and dex's beside it.
fn memory_figures(
    rt: &Runtime,
    ours: &ours::Ours,
    theirs: &dex::DexSide<'_>,
    warm: (i64, Memory),
    clients: usize,
    dex_executions: usize,
) -> Result<Vec<Figure>> {
    let before = usize::try_from(stored(rt, ours)?).unwrap_or_default();
    if before < STORED_FOR_RSS {
        eprintln!("local: {} more executions, for {STORED_FOR_RSS} stored", STORED_FOR_RSS - before);
        load(STORED_FOR_RSS - before, clients, &|| {
            ours.execute().map(|(latency, arn)| Sample { latency, arn, polls: 0 })
        })?;
    }
    let status = rt.block_on(Supervisor::new(ours.state_dir()).status()).context("cannot read the service's status")?;
    if status.running > 0 {
        return Err(Error::msg(format!("{} executions still running after their Invoke returned", status.running)));
    }
    let loaded = memory(ours.pid()?)?;
    let (warm_stored, warm_memory) = warm;
    let mut figures = vec![
        Figure::new(SUITE, format!("ours: service RSS, {warm_stored} executions stored"), "MiB", vec![warm_memory.rss])
            .note("VmRSS of daemon.json's pid after the warm-up"),
        Figure::new(
            SUITE,
            format!("ours: service RSS, {} executions stored", status.executions),
            "MiB",
            vec![loaded.rss],
        )
        .note("VmRSS after every round, all executions finished; the count is the service's status"),
        Figure::new(SUITE, "ours: service peak RSS (VmHWM)", "MiB", vec![loaded.peak])
            .note("the most the service held at once, 16 clients included"),
    ];
    if let Some(pid) = theirs.dex_pid() {
        let dex = memory(pid)?;
        figures.push(
            Figure::new(
                SUITE,
                format!("dex: dex-local-runner RSS, {dex_executions} executions run"),
                "MiB",
                vec![dex.rss],
            )
            .note("VmRSS of the emulator's Python process (sqlite store), for scale"),
        );
    }
    Ok(figures)
}

/// dex's phases from the histories of its first sequential executions, as [`ours::split`] reads ours.
fn dex_phases(theirs: &dex::DexSide<'_>, arns: &[&String]) -> Result<Vec<Figure>> {
    let mut phases: [Vec<f64>; 4] = Default::default();
    let mut sample = String::new();
    for arn in arns {
        let history = ours::history(&theirs.authority, arn)?;
        if sample.is_empty() {
            sample = ours::describe_history(&history);
        }
        if let Some(found) = ours::engine_phases(&history) {
            for (all, one) in phases.iter_mut().zip(found) {
                all.push(one);
            }
        }
    }
    let [dispatch, checkpoint, chained, resume] = phases;
    Ok(vec![
        Figure::new(SUITE, "dex: phase: start → first checkpoint (StepStarted)", "ms", dispatch)
            .note(format!("dex's history timestamps; one execution: {sample}")),
        Figure::new(SUITE, "dex: phase: one checkpoint round trip", "ms", checkpoint),
        Figure::new(SUITE, "dex: phase: chained invoke of the processor", "ms", chained),
        Figure::new(SUITE, "dex: phase: resume to the end (replay invocation)", "ms", resume),
    ])
}

/// Executions the service's status counts.
fn stored(rt: &Runtime, ours: &ours::Ours) -> Result<i64> {
    let status = rt.block_on(Supervisor::new(ours.state_dir()).status()).context("cannot read the service's status")?;
    Ok(status.executions)
}

/// A process's resident memory, MiB.
#[derive(Debug, Clone, Copy)]
struct Memory {
    rss: f64,
    peak: f64,
}

/// `VmRSS` and `VmHWM` of `pid`.
fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let field = |name: &str| -> Result<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .with_context(|| format!("{path} has no {name}"))
    };
    Ok(Memory { rss: field("VmRSS:")?, peak: field("VmHWM:")? })
}

fn log_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// What `path` gained since it was `from` bytes long.
fn log_since(path: &std::path::Path, from: u64) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    Ok(String::from_utf8_lossy(bytes.get(from..).unwrap_or_default()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_pair_rounds() {
        let level = |per_second| Level { latencies: vec![], arns: vec![], polls: vec![], per_second };
        let ours = [level(200.0), level(150.0)];
        let dex = [level(10.0), level(15.0)];
        assert_eq!(ratios(&ours, &dex).len(), 2);
        assert!((ratios(&ours, &dex)[0] - 20.0).abs() < 1e-9);
    }
}
