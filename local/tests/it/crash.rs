//! The service killed with SIGKILL at random moments while executions are in flight (half the time alone, leaving
//! its function processes orphaned; half the time with its whole process group), then started again: every
//! accepted execution ends SUCCEEDED with its own result, none stays RUNNING, no orphan is left.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use local::http::{Client, encode_segment};
use serde_json::Value;

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

/// Starts `count` Event invocations at once; returns the ARNs of those the service accepted (202) before `kill`
/// fired.
async fn start_and_kill(
    endpoint: &str,
    alias: &str,
    trial: usize,
    delay: Duration,
    kill: impl FnOnce(),
) -> Vec<(String, usize)> {
    let client = Client::new();
    let url = format!("{endpoint}/2015-03-31/functions/{}/invocations", encode_segment(alias));
    let calls: Vec<_> = (0..PER_TRIAL)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let body = Bytes::from(format!(r#"{{"values": [{trial}, {i}, 1000]}}"#));
                let answer = client
                    .call(Method::POST, &url, &[("x-amz-invocation-type", "Event")], body, Duration::from_secs(30))
                    .await
                    .ok()?;
                let arn = answer.headers.get("x-amz-durable-execution-arn")?.to_str().ok()?.to_owned();
                (answer.status == 202).then_some((arn, trial + i + 1000))
            })
        })
        .collect();
    tokio::time::sleep(delay).await;
    kill();
    let mut accepted = Vec::new();
    for call in calls {
        if let Ok(Some(found)) = call.await {
            accepted.push(found);
        }
    }
    accepted
}

#[test]
fn every_accepted_execution_succeeds_whatever_moment_the_service_is_killed() {
    let mut local = Local::seed("crash");
    let root = local.target.state().root.clone();
    let seed = u64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % u128::from(u64::MAX),
    )
    .unwrap();
    println!("random seed {seed}");
    let mut rng = Lcg(seed);
    let alias = local.alias();
    let mut accepted: Vec<(String, usize)> = Vec::new();
    for trial in 0..TRIALS {
        let daemon = local.daemon_pid();
        let whole_group = trial % 2 == 1;
        let delay = Duration::from_millis(rng.next(400));
        let before: Vec<u32> = processes_of(&root);
        let endpoint = local.endpoint.clone();
        let started = local.rt.block_on(start_and_kill(&endpoint, &alias, trial, delay, || {
            // The pid comes from daemon.json: signalled only when it is ours, as the product checks.
            let kill = rustix::process::Signal::KILL;
            let sent = if whole_group {
                local::supervisor::process::signal_group_if_ours(daemon, &root, kill)
            } else {
                local::supervisor::process::signal_if_ours(daemon, &root, kill)
            };
            assert!(sent, "daemon.json's pid {daemon} is not the service of {}", root.display());
        }));
        println!(
            "trial {trial}: killed the service{} after {delay:?}, {} of {PER_TRIAL} accepted",
            if whole_group { " and its process group" } else { " alone" },
            started.len()
        );
        accepted.extend(started);
        let dead = Instant::now();
        while local::supervisor::process::is_alive(daemon) {
            assert!(dead.elapsed() < Duration::from_secs(10), "the killed service is still alive");
            std::thread::sleep(Duration::from_millis(20));
        }
        let outcome = local.redeploy();
        assert_eq!(outcome.action, local::ServiceAction::Started);
        // Every process of the killed run is gone: stopped by the new service or ended on its own.
        let orphans: Vec<u32> =
            before.iter().copied().filter(|p| local::supervisor::process::is_ours(*p, &root)).collect();
        assert!(orphans.is_empty(), "processes of the killed run still running: {orphans:?}");
    }
    let arns: Vec<String> = accepted.iter().map(|(arn, _)| arn.clone()).collect();
    let ended = local.wait_all(&arns, Duration::from_mins(5));
    for ((arn, expected_sum), execution) in accepted.iter().zip(&ended) {
        assert_eq!(execution["Status"], "SUCCEEDED", "{arn}: {execution}");
        let result: Value = serde_json::from_str(execution["Result"].as_str().unwrap()).unwrap();
        let body: Value = serde_json::from_str(result["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["processing_result"]["sum"], *expected_sum as u64, "{arn} got another execution's result");
    }
    let function = local.outputs["DurableLambdaFunctionName"].clone();
    let running = local.call(
        Method::GET,
        &format!("/2025-12-01/functions/{function}/durable-executions?Statuses=RUNNING"),
        &[],
        "",
    );
    let running: Value = running.json().unwrap();
    assert_eq!(running["DurableExecutions"].as_array().unwrap().len(), 0, "executions left RUNNING: {running}");
    let processor = local.outputs["ProcessorFunctionName"].clone();
    let runs = local.log(&processor).lines().filter(|l| l.starts_with("START RequestId")).count();
    let all = local.call(Method::GET, &format!("/2025-12-01/functions/{function}/durable-executions"), &[], "");
    let executions = all.json::<Value>().unwrap()["DurableExecutions"].as_array().unwrap().len();
    println!(
        "{} accepted executions, {executions} stored; the processor ran {runs} times: {} more than once per execution",
        accepted.len(),
        runs.saturating_sub(executions)
    );
    assert!(runs >= executions, "an execution succeeded without running the processor");
    let target = local.target.clone();
    local.rt.block_on(target.down()).unwrap();
    let left = processes_of(&root);
    assert!(left.is_empty(), "processes left after down: {left:?}");
}
