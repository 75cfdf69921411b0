//! Differential tests: the same functions run the same executions on our engine and on AWS's emulator (dex), and
//! their histories must agree on event types, order, names and payloads. Ids, timestamps, request ids and ARN
//! shapes aside; every other difference is a known one, listed in [`KNOWN`] with the side that matches the service.

use std::time::{Duration, Instant};

use hyper::Method;
use local::http::{Client, encode_segment};
use local::oracle::{DURABLE_ENDPOINT_ENV, Dex};
use serde_json::{Map, Value};

use crate::support::{Local, conformance_stack, runtime, seed_stack, tool};

/// Differences between the engines that are understood, each with the side matching the service's documented or
/// recorded behaviour: `(event member path, why)`.
pub const KNOWN: &[(&str, &str)] = &[
    (
        "ChainedInvokeStartedDetails.ExecutedVersion",
        "dex leaves it out; the service records it (the conformance suite's recorded histories have it): ours",
    ),
    (
        "ChainedInvokeStartedDetails.DurableExecutionArn",
        "dex leaves it out; the service records it (the conformance suite's recorded histories have it): ours",
    ),
    (
        "StepSucceededDetails.RetryDetails",
        "dex records RetryDetails only on failed attempts; the service records CurrentAttempt on the success after \
         a retry (conformance 1-11), and ours on every step success: ours (for the retried case; unknown for a first \
         attempt)",
    ),
    (
        "CallbackStartedDetails.Timeout",
        "dex leaves out the callback's timeout; the service records it (conformance 4-3): ours",
    ),
    (
        "CallbackStartedDetails.HeartbeatTimeout",
        "dex leaves out the callback's heartbeat timeout; the service records it (conformance 4-4): ours",
    ),
    (
        "InvocationCompletedDetails",
        "dex records InvocationCompleted with no details; the service records StartTimestamp, EndTimestamp and \
         RequestId (the conformance suite matches InvocationCompletedDetails): ours",
    ),
];

/// Members that differ by nature between two runs: ids, times, request ids, ARNs.
const VOLATILE: &[&str] = &[
    "EventId",
    "EventTimestamp",
    "StartTimestamp",
    "EndTimestamp",
    "ScheduledEndTimestamp",
    "RequestId",
    "DurableExecutionArn",
    "CallbackId",
];

/// An event reduced to what both engines must agree on.
fn normalize(event: &Value, path: &str, differences_ok: &mut Vec<String>) -> Value {
    match event {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if VOLATILE.contains(&key.as_str()) {
                    continue;
                }
                // dex gives a final failed attempt a next delay of 0; ours, like the recorded histories (1-12's
                // last StepFailed), gives none: there is no next attempt.
                // dex marks a callback's error as truncated, though it is whole; ours does not cut it either.
                if here.starts_with("Callback") && here.ends_with("Details.Error.Truncated") {
                    differences_ok.push(format!("{here} (dex says true of a whole error)"));
                    continue;
                }
                // dex records its own message whatever error the StopDurableExecution request carried; ours records
                // the request's error, as the API reference describes the request's Error member.
                if here == "ExecutionStoppedDetails.Error.Payload" {
                    differences_ok.push(format!("{here} (dex ignores the stop request's error)"));
                    continue;
                }
                if here == "StepFailedDetails.RetryDetails.NextAttemptDelaySeconds" && value == 0 {
                    differences_ok.push(format!("{here} = 0 on a final failure"));
                    continue;
                }
                if KNOWN.iter().any(|(known, _)| *known == here) {
                    differences_ok.push(here);
                    continue;
                }
                out.insert(key.clone(), normalize(value, &here, differences_ok));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| normalize(i, path, differences_ok)).collect()),
        other => other.clone(),
    }
}

fn history(endpoint: &str, arn: &str, rt: &tokio::runtime::Runtime) -> Vec<Value> {
    let url =
        format!("{endpoint}/2025-12-01/durable-executions/{}/history?IncludeExecutionData=true", encode_segment(arn));
    let answer = rt.block_on(Client::new().get(&url, Duration::from_secs(30))).unwrap();
    let value: Value = answer.json().unwrap();
    value["Events"].as_array().cloned().unwrap_or_default()
}

fn wait_ended(endpoint: &str, arn: &str, rt: &tokio::runtime::Runtime) -> Value {
    let started = Instant::now();
    loop {
        let url = format!("{endpoint}/2025-12-01/durable-executions/{}", encode_segment(arn));
        let value: Value = rt.block_on(Client::new().get(&url, Duration::from_secs(30))).unwrap().json().unwrap();
        if value["Status"] != "RUNNING" {
            return value;
        }
        assert!(started.elapsed() < Duration::from_mins(2), "{arn} still RUNNING on {endpoint}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// dex's history with each chained-invoke result that precedes the handler invocation's completion moved after it.
fn target_result_after_invocation(events: &[Value]) -> Vec<Value> {
    let mut events = events.to_vec();
    for i in 0..events.len().saturating_sub(1) {
        let kind = events[i]["EventType"].as_str().unwrap_or_default();
        let is_result = kind.starts_with("ChainedInvoke") && kind != "ChainedInvokeStarted";
        if is_result && events[i + 1]["EventType"] == "InvocationCompleted" {
            events.swap(i, i + 1);
        }
    }
    events
}

/// Compares two histories; returns the known differences met.
pub fn compare(ours: &[Value], theirs: &[Value]) -> Vec<String> {
    let mut known = Vec::new();
    let mut reduce = |events: &[Value]| -> Vec<Value> {
        events
            .iter()
            .map(|e| {
                let mut e = normalize(e, "", &mut known);
                // An execution's own id and name are random on either side: only their presence must agree.
                if e["EventType"].as_str().is_some_and(|t| t.starts_with("Execution"))
                    && let Some(map) = e.as_object_mut()
                {
                    for key in ["Id", "Name"] {
                        if map.contains_key(key) {
                            map.insert(key.into(), Value::String("<execution's own>".into()));
                        }
                    }
                }
                e
            })
            .collect()
    };
    let ours = reduce(ours);
    let theirs = reduce(theirs);
    let types = |events: &[Value]| -> Vec<String> {
        events.iter().map(|e| e["EventType"].as_str().unwrap_or_default().to_owned()).collect()
    };
    let (ours, theirs) = if types(&ours) == types(&theirs) {
        (ours, theirs)
    } else {
        // dex records a fast chained-invoke target's result whenever it arrives, sometimes before the handler's
        // invocation that started it has completed; the service (and ours) records it after (conformance 5-1, 5-5).
        let reordered = target_result_after_invocation(&theirs);
        assert_eq!(
            types(&ours),
            types(&reordered),
            "the engines recorded different events (dex: {:?})",
            types(&theirs)
        );
        known.push("order of ChainedInvoke results and InvocationCompleted".to_owned());
        (ours, reordered)
    };
    for (index, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "event {} differs between our engine (left) and dex (right)", index + 1);
    }
    known.sort();
    known.dedup();
    known
}

#[test]
fn the_seed_pattern_records_the_same_history_on_dex_and_on_our_engine() {
    let rt = runtime();
    let ours = Local::seed("oracle");
    let mut dex = None;
    let theirs = Local::deploy(&seed_stack("oracle"), |dir, deployment| {
        let started = rt.block_on(Dex::start(&tool("dex-local-runner"), &dir.join("dex"), deployment, false)).unwrap();
        let env = vec![(DURABLE_ENDPOINT_ENV.to_owned(), started.url.clone())];
        dex = Some((started, deployment.clone()));
        env
    });
    let (dex, deployment) = dex.unwrap();
    rt.block_on(dex.set_lambda_endpoint(&theirs.endpoint, "us-east-1")).unwrap();

    let payload = r#"{"values": [3, 4, 5]}"#;
    let alias = ours.alias();
    let answer =
        ours.call(Method::POST, &format!("/2015-03-31/functions/{}/invocations", encode_segment(&alias)), &[], payload);
    let our_arn = answer.headers["x-amz-durable-execution-arn"].to_str().unwrap().to_owned();
    let function = theirs.outputs["DurableLambdaFunctionName"].clone();
    let dex_arn = rt.block_on(dex.start_execution(&deployment, &function, "1", payload)).unwrap();
    let dex_end = wait_ended(&dex.url, &dex_arn, &rt);
    let our_end = wait_ended(&ours.endpoint, &our_arn, &rt);
    assert_eq!(our_end["Status"], "SUCCEEDED");
    assert_eq!(dex_end["Status"], our_end["Status"]);
    assert_eq!(dex_end["Result"], our_end["Result"]);
    let known = compare(&history(&ours.endpoint, &our_arn, &rt), &history(&dex.url, &dex_arn, &rt));
    println!("known differences met: {known:?}");
}

/// The same stack on our engine and, through a second service whose functions checkpoint to dex, on dex.
struct Pair {
    rt: tokio::runtime::Runtime,
    ours: Local,
    /// The service running dex's handlers; kept so it stops when the pair is dropped.
    _theirs: Local,
    dex: Dex,
    deployment: local::deployment::Deployment,
}

impl Pair {
    fn new(stack: &constructs::Stack) -> Self {
        let rt = runtime();
        let ours = Local::deploy(stack, |_, _| Vec::new());
        let mut dex = None;
        let theirs = Local::deploy(stack, |dir, deployment| {
            let started =
                rt.block_on(Dex::start(&tool("dex-local-runner"), &dir.join("dex"), deployment, false)).unwrap();
            let env = vec![(DURABLE_ENDPOINT_ENV.to_owned(), started.url.clone())];
            dex = Some((started, deployment.clone()));
            env
        });
        let (dex, deployment) = dex.unwrap();
        rt.block_on(dex.set_lambda_endpoint(&theirs.endpoint, "us-east-1")).unwrap();
        Self { rt, ours, _theirs: theirs, dex, deployment }
    }

    /// Starts function `id` with `input` on both engines: `(ours, dex's)` execution ARNs.
    fn start(&self, stack: &str, id: &str, input: &str) -> (String, String) {
        let name = local::arn::Arns::new(stack, "us-east-1").function_name(id);
        let answer = self.ours.call(
            Method::POST,
            &format!("/2015-03-31/functions/{name}/invocations?Qualifier=%24LATEST"),
            &[("x-amz-invocation-type", "Event")],
            input,
        );
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        let ours = answer.headers["x-amz-durable-execution-arn"].to_str().unwrap().to_owned();
        let theirs = self.rt.block_on(self.dex.start_execution(&self.deployment, &name, "$LATEST", input)).unwrap();
        (ours, theirs)
    }

    /// Waits on each engine for `kind` in the history; returns each engine's event.
    fn until_event(&self, arns: &(String, String), kind: &str) -> (Value, Value) {
        let find = |endpoint: &str, arn: &str| {
            let started = Instant::now();
            loop {
                if let Some(found) = history(endpoint, arn, &self.rt).into_iter().find(|e| e["EventType"] == kind) {
                    return found;
                }
                assert!(started.elapsed() < Duration::from_mins(1), "no {kind} on {endpoint}");
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        (find(&self.ours.endpoint, &arns.0), find(&self.dex.url, &arns.1))
    }

    /// POSTs `path` (after the execution or callback segment) with `body` on each engine.
    fn post(&self, ours: &str, theirs: &str, body: &str) {
        for (endpoint, path) in [(&self.ours.endpoint, ours), (&self.dex.url, theirs)] {
            let answer = self
                .rt
                .block_on(Client::new().call(
                    Method::POST,
                    &format!("{endpoint}{path}"),
                    &[],
                    bytes::Bytes::from(body.to_owned()),
                    Duration::from_secs(30),
                ))
                .unwrap();
            assert!(answer.status.is_success(), "{endpoint}{path}: {}", String::from_utf8_lossy(&answer.body));
        }
    }

    /// Waits until both executions ended, checks they ended alike and compares their histories.
    fn compare(&self, scenario: &str, arns: &(String, String)) -> Vec<String> {
        let ours = wait_ended(&self.ours.endpoint, &arns.0, &self.rt);
        let theirs = wait_ended(&self.dex.url, &arns.1, &self.rt);
        assert_eq!(ours["Status"], theirs["Status"], "{scenario}: the engines ended differently");
        assert_eq!(ours["Result"], theirs["Result"], "{scenario}: the engines returned different results");
        let known =
            compare(&history(&self.ours.endpoint, &arns.0, &self.rt), &history(&self.dex.url, &arns.1, &self.rt));
        println!("{scenario}: {} on both; known differences: {known:?}", ours["Status"]);
        known
    }
}

fn callback_id(event: &Value) -> String {
    event["CallbackStartedDetails"]["CallbackId"].as_str().unwrap().to_owned()
}

#[test]
fn scripted_executions_record_the_same_histories_on_dex_and_on_our_engine() {
    const STACK: &str = "oracle-scripts";
    let scenarios: &[(&str, &str, u32)] = &[
        ("Step", "1-1", 600),
        ("Retry", "1-11", 600),
        ("Fails", "1-19", 600),
        ("Wait", "2-1", 600),
        ("Callback", "4-1", 600),
        ("CallbackFails", "4-6", 600),
        ("CallbackTimesOut", "4-3", 600),
        ("Invoke", "5-1", 600),
        ("InvokeFails", "5-5", 600),
        ("Stopped", "4-2", 600),
    ];
    let pair = Pair::new(&conformance_stack(STACK, scenarios));
    let simple: Vec<(&str, (String, String))> = [
        ("Step", "\"World\""),
        ("Retry", "{}"),
        ("Fails", "{}"),
        ("Wait", "{}"),
        ("Invoke", "\"echo me\""),
        ("InvokeFails", "{}"),
        ("CallbackTimesOut", "\"late\""),
    ]
    .into_iter()
    .map(|(id, input)| (id, pair.start(STACK, id, input)))
    .collect();
    let callback = pair.start(STACK, "Callback", "\"approval\"");
    let failing = pair.start(STACK, "CallbackFails", "\"rejected\"");
    let stopped = pair.start(STACK, "Stopped", "{}");

    let (a, b) = pair.until_event(&callback, "CallbackStarted");
    let path = |id: &str, action: &str| format!("/2025-12-01/durable-execution-callbacks/{id}/{action}");
    pair.post(&path(&callback_id(&a), "succeed"), &path(&callback_id(&b), "succeed"), r#"{"approved": true}"#);
    let (a, b) = pair.until_event(&failing, "CallbackStarted");
    let error = r#"{"ErrorType": "RejectedError", "ErrorMessage": "not approved"}"#;
    pair.post(&path(&callback_id(&a), "fail"), &path(&callback_id(&b), "fail"), error);
    pair.until_event(&stopped, "CallbackStarted");
    let stop = |arn: &str| format!("/2025-12-01/durable-executions/{}/stop", encode_segment(arn));
    pair.post(&stop(&stopped.0), &stop(&stopped.1), r#"{"ErrorType": "Operator", "ErrorMessage": "enough"}"#);

    let mut all = simple;
    all.extend([("Callback", callback), ("CallbackFails", failing), ("Stopped", stopped)]);
    let mut met = Vec::new();
    for (id, arns) in &all {
        met.extend(pair.compare(id, arns));
    }
    met.sort();
    met.dedup();
    println!("known differences met in all: {met:?}");
}
