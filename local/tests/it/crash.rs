//! The service killed with SIGKILL at random moments while executions are in flight (half the time alone, leaving
//! its function processes orphaned; half the time with its whole process group), then started again: every
//! accepted execution ends SUCCEEDED with its own result, none stays RUNNING, no process of a killed run is left,
//! and a processor call is repeated at most once per kill that cut its execution.

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use hyper::Method;
use local::http::{Client, encode_segment};
use serde_json::{Value, json};

use crate::support::{Local, processes_of};

const TRIALS: usize = 20;
const PER_TRIAL: usize = 30;

/// A small deterministic generator, seeded from the clock and printed, so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// An execution the service answered 202 for, and the input that makes its result its own.
struct Accepted {
    arn: String,
    values: [usize; 3],
}

/// What one trial saw at its kill.
struct Kill {
    /// When the signal was sent, in epoch seconds (the API's timestamps).
    at: f64,
    /// The processes naming the state folder just before the signal, the service among them.
    processes: Vec<u32>,
}

fn epoch_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Starts `PER_TRIAL` Event invocations at once, waits for the first 202, then `delay` more, and calls `kill`
/// (which returns what it saw); returns the executions the service accepted (202) and the kill.
async fn start_and_kill(
    endpoint: &str,
    alias: &str,
    trial: usize,
    delay: Duration,
    kill: impl FnOnce() -> Kill,
) -> (Vec<Accepted>, Kill) {
    let client = Client::new();
    let url = format!("{endpoint}/2015-03-31/functions/{}/invocations", encode_segment(alias));
    let (first_tx, mut first_rx) = tokio::sync::mpsc::channel::<()>(PER_TRIAL);
    let calls: Vec<_> = (0..PER_TRIAL)
        .map(|i| {
            let (client, url, first) = (client.clone(), url.clone(), first_tx.clone());
            tokio::spawn(async move {
                // Unique per execution, so a result delivered to the wrong execution shows.
                let values = [trial, i, 1000];
                let body = Bytes::from(json!({ "values": values }).to_string());
                let answer = client
                    .call(Method::POST, &url, &[("x-amz-invocation-type", "Event")], body, Duration::from_secs(30))
                    .await
                    .ok()?;
                let arn = answer.headers.get("x-amz-durable-execution-arn")?.to_str().ok()?.to_owned();
                (answer.status == 202).then(|| {
                    let _ = first.try_send(());
                    Accepted { arn, values }
                })
            })
        })
        .collect();
    drop(first_tx);
    let first = tokio::time::timeout(Duration::from_secs(30), first_rx.recv()).await;
    assert!(matches!(first, Ok(Some(()))), "trial {trial}: the service accepted no execution within 30 s");
    tokio::time::sleep(delay).await;
    let seen = kill();
    let mut accepted = Vec::new();
    for call in calls {
        if let Ok(Some(found)) = call.await {
            accepted.push(found);
        }
    }
    (accepted, seen)
}

#[test]
fn every_accepted_execution_succeeds_whatever_moment_the_service_is_killed() {
    let mut local = Local::seed("crash");
    let root = local.target.state().root.clone();
    let seed = u64::try_from(
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() % u128::from(u64::MAX),
    )
    .unwrap();
    println!("random seed {seed}");
    let mut rng = Lcg(seed);
    let alias = local.alias();
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut kills: Vec<Kill> = Vec::new();
    let mut orphaned_by_lone_kills = 0;
    for trial in 0..TRIALS {
        let daemon = local.daemon_pid();
        let whole_group = trial % 2 == 1;
        let delay = Duration::from_millis(rng.next(150));
        let before = processes_of(&root);
        let endpoint = local.endpoint.clone();
        let (started, kill) = local.rt.block_on(start_and_kill(&endpoint, &alias, trial, delay, || {
            let processes = processes_of(&root);
            let at = epoch_seconds(SystemTime::now());
            // The pid comes from daemon.json: signalled only when it is ours, as the product checks.
            let signal = rustix::process::Signal::KILL;
            let sent = if whole_group {
                local::supervisor::process::signal_group_if_ours(daemon, &root, signal)
            } else {
                local::supervisor::process::signal_if_ours(daemon, &root, signal)
            };
            assert!(sent, "daemon.json's pid {daemon} is not the service of {}", root.display());
            Kill { at, processes }
        }));
        let dead = Instant::now();
        while local::supervisor::process::is_alive(daemon) {
            assert!(dead.elapsed() < Duration::from_secs(10), "the killed service is still alive");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Everything naming the state folder now belongs to the killed run: the new service is not started yet.
        let after = processes_of(&root);
        println!(
            "trial {trial}: killed the service{} {delay:?} after the first 202, {} of {PER_TRIAL} accepted; {} \
             process(es) at the kill, {} left after it",
            if whole_group { " and its process group" } else { " alone" },
            started.len(),
            kill.processes.len(),
            after.len(),
        );
        assert!(kill.processes.contains(&daemon), "the service {daemon} was not among {:?}", kill.processes);
        if !whole_group {
            orphaned_by_lone_kills += after.len();
        }
        let killed_run: BTreeSet<u32> = before.iter().chain(&kill.processes).chain(&after).copied().collect();
        accepted.extend(started);
        kills.push(kill);
        let outcome = local.redeploy();
        assert_eq!(outcome.action, local::ServiceAction::Started);
        // Every process of the killed run is gone: stopped by the new service or ended on its own.
        let orphans: Vec<u32> =
            killed_run.iter().copied().filter(|p| local::supervisor::process::is_ours(*p, &root)).collect();
        assert!(orphans.is_empty(), "processes of the killed run still running: {orphans:?}");
    }
    // The orphan check above checked something: killing the service alone left its function processes running.
    assert!(orphaned_by_lone_kills > 0, "no function process outlived a lone kill of the service");

    let arns: Vec<String> = accepted.iter().map(|a| a.arn.clone()).collect();
    let ended = local.wait_all(&arns, Duration::from_mins(5));
    for (accepted, execution) in accepted.iter().zip(&ended) {
        let arn = &accepted.arn;
        assert_eq!(execution["Status"], "SUCCEEDED", "{arn}: {execution}");
        let result: Value = serde_json::from_str(execution["Result"].as_str().unwrap()).unwrap();
        let body: Value = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["input_values"], json!(accepted.values), "{arn} got another execution's result: {body}");
        let sum: usize = accepted.values.iter().sum();
        assert_eq!(body["processing_result"]["sum"], sum, "{arn} got another execution's result: {body}");
    }

    let function = local.outputs["DurableLambdaFunctionName"].clone();
    let all = local.call(Method::GET, &format!("/2025-12-01/functions/{function}/durable-executions"), &[], "");
    let all: Value = all.json().unwrap();
    assert!(all.get("NextMarker").is_none(), "more executions than one page holds");
    let stored = all["DurableExecutions"].as_array().unwrap();
    let not_succeeded: Vec<&Value> = stored.iter().filter(|e| e["Status"] != "SUCCEEDED").collect();
    assert!(not_succeeded.is_empty(), "stored executions that did not succeed: {not_succeeded:?}");
    assert!(stored.len() >= accepted.len(), "{} stored, {} accepted", stored.len(), accepted.len());

    // Executions running when the service died: what the test is about, so most trials must have cut some.
    let in_flight_at = |kill: &Kill| {
        stored
            .iter()
            .filter(|e| {
                let (start, end) = (e["StartTimestamp"].as_f64().unwrap(), e["EndTimestamp"].as_f64().unwrap());
                start <= kill.at && kill.at < end
            })
            .count()
    };
    let cut: Vec<usize> = kills.iter().map(in_flight_at).collect();
    println!("executions in flight at each kill: {cut:?}");
    let trials_that_cut = cut.iter().filter(|n| **n > 0).count();
    assert!(trials_that_cut * 2 >= TRIALS, "only {trials_that_cut} of {TRIALS} kills found executions in flight");

    // A processor call cut by a kill may run again: at most once per kill that came while it was in flight, between
    // its `ChainedInvokeStarted` and the recorded result (with a few milliseconds of slack on each side: the
    // timestamps have millisecond precision, and the kill's is taken just before the signal).
    let processor = local.outputs["ProcessorFunctionName"].clone();
    let processor_runs = || local.log(&processor).lines().filter(|l| l.starts_with("START RequestId")).count();
    let runs = processor_runs();
    let mut cut_calls = 0;
    for execution in stored {
        let arn = execution["DurableExecutionArn"].as_str().unwrap();
        let history = local.call(
            Method::GET,
            &format!("/2025-12-01/durable-executions/{}/history", encode_segment(arn)),
            &[],
            "",
        );
        let history: Value = history.json().unwrap();
        assert!(history.get("NextMarker").is_none(), "{arn}: a history longer than one page");
        let at = |kind: &str| {
            let events = history["Events"].as_array().unwrap();
            let event = events.iter().find(|e| e["EventType"] == kind);
            event.unwrap_or_else(|| panic!("{arn}: no {kind} in {history}"))["EventTimestamp"].as_f64().unwrap()
        };
        let (issued, recorded) = (at("ChainedInvokeStarted") - 0.005, at("ChainedInvokeSucceeded") + 0.005);
        cut_calls += kills.iter().filter(|kill| issued <= kill.at && kill.at <= recorded).count();
    }
    let repeated = runs.saturating_sub(stored.len());
    println!(
        "{} accepted executions, {} stored; the processor ran {runs} times: {repeated} more than once per execution \
         (at most {cut_calls}: kills while a processor call was in flight)",
        accepted.len(),
        stored.len(),
    );
    assert!(runs >= stored.len(), "an execution succeeded without running the processor");
    assert!(repeated <= cut_calls, "{repeated} repeated processor runs for {cut_calls} cut processor calls");

    // With no kill, no repeat: a last batch runs the processor exactly once per execution.
    let before = processor_runs();
    let batch: Vec<String> = (0..PER_TRIAL)
        .map(|i| {
            let payload = json!({ "values": [TRIALS, i, 1000] }).to_string();
            let path = format!("/2015-03-31/functions/{}/invocations", encode_segment(&alias));
            let answer = local.call(Method::POST, &path, &[("x-amz-invocation-type", "Event")], &payload);
            assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
            answer.headers["x-amz-durable-execution-arn"].to_str().unwrap().to_owned()
        })
        .collect();
    let ended = local.wait_all(&batch, Duration::from_mins(2));
    assert!(ended.iter().all(|e| e["Status"] == "SUCCEEDED"), "{ended:?}");
    assert_eq!(processor_runs() - before, PER_TRIAL, "the processor ran more than once per execution without a kill");

    let target = local.target.clone();
    local.rt.block_on(target.down()).unwrap();
    let left = processes_of(&root);
    assert!(left.is_empty(), "processes left after down: {left:?}");
}
