//! A running execution on the local target, through the deployer's CLI: a conformance handler waiting on a
//! callback is listed RUNNING by `executions`, counted by `status`, has its invocation in `logs --function`, and
//! `stop` stops it (`history` then shows STOPPED); `callback succeed`, `fail` and `heartbeat` reach waiting
//! executions, whose results, errors and survival of a heartbeat timeout prove each one arrived.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    Down, Run, copy_workspace, deployer, ended_history, json_event, local_envs as envs, local_history,
    open_callback_id, run_ok as run,
};

/// The conformance stack of callback handlers (`durable-conformance-callback`).
const STACK: &str = "ConformanceCallback";
/// The conformance suites' app.
const APP: &str = "conformance-app";

/// `args` on `function` of the callback stack, with `--json`.
fn on(function: &str, args: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(["--local", "--app", APP, "--stack", STACK, "--function", function, "--json"].map(str::to_owned));
    all
}

fn run_on(dir: &Path, function: &str, args: &[&str]) -> Run {
    let all = on(function, args);
    run(dir, &all.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `history <name>` as JSON.
fn history(dir: &Path, function: &str, name: &str) -> Value {
    local_history(dir, &scope(function), name)
}

/// The arguments that pick `function` of the callback stack.
fn scope(function: &str) -> [&str; 6] {
    ["--app", APP, "--stack", STACK, "--function", function]
}

/// Starts `function` asynchronously as `name` with `payload`.
fn start(dir: &Path, function: &str, name: &str, payload: &str) {
    run_on(dir, function, &["invoke", "--async", "--name", name, "--payload", payload]);
}

/// Waits until execution `name` has a callback open; returns its id.
fn callback_id(dir: &Path, function: &str, name: &str) -> String {
    open_callback_id(dir, &scope(function), name)
}

/// Moves the local target's manual clock by `by`; returns once the timers it passed were applied.
fn advance(dir: &Path, by: &str) {
    run(dir, &["time", "advance", by, "--local"]);
}

/// Waits until execution `name` has ended; returns its history.
fn ended(dir: &Path, function: &str, name: &str) -> Value {
    ended_history(dir, &scope(function), name)
}

#[test]
fn a_running_execution_is_listed_shown_and_stopped_and_callbacks_reach_waiting_ones() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    copy_workspace(dir);
    let _down = Down(dir);
    run(dir, &["--app", APP, "up", "--local", "--clock", "manual", STACK]);

    // 4-1: waits on a callback named after its input, returns the callback's result.
    let waiting = "Callback4x1";
    start(dir, waiting, "stop-me", r#""stop-me""#);
    callback_id(dir, waiting, "stop-me");
    let listed = json_event(&run_on(dir, waiting, &["executions"]), "executions");
    let row = listed["executions"].as_array().unwrap().iter().find(|e| e["name"] == "stop-me").cloned();
    assert_eq!(row.map(|r| r["status"].clone()), Some("RUNNING".into()), "{listed:#}");
    let status = json_event(&run(dir, &["--app", APP, "status", "--local", STACK, "--json"]), "local_status");
    assert_eq!(status["running"], 1, "{status:#}");
    let logs = run_on(dir, waiting, &["logs"]);
    assert!(
        logs.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| l["event"] == "log_line"
                && l["message"].as_str().is_some_and(|m| m.starts_with("START RequestId:"))),
        "no invocation of {waiting} in its log:\n{}",
        logs.all()
    );

    let stopped = run_on(dir, waiting, &["stop", "stop-me"]);
    json_event(&stopped, "execution_stopped");
    let after = history(dir, waiting, "stop-me");
    assert_eq!(after["execution"]["status"], "STOPPED", "{after:#}");
    let listed = json_event(&run_on(dir, waiting, &["executions", "--status", "stopped"]), "executions");
    assert!(listed["executions"].as_array().unwrap().iter().any(|e| e["name"] == "stop-me"), "{listed:#}");
    let status = json_event(&run(dir, &["--app", APP, "status", "--local", STACK, "--json"]), "local_status");
    assert_eq!(status["running"], 0, "{status:#}");
    let refused =
        deployer(dir, &on(waiting, &["stop", "stop-me"]).iter().map(String::as_str).collect::<Vec<_>>(), &envs());
    assert!(!refused.ok && refused.stderr.contains("already ended"), "{}", refused.all());

    // `callback succeed`: the result reaches the handler, which returns it.
    start(dir, waiting, "succeed-me", r#""succeed-me""#);
    let id = callback_id(dir, waiting, "succeed-me");
    let sent = json_event(
        &run(dir, &["callback", "succeed", &id, "--result", r#"{"approved": true}"#, "--local", "--json"]),
        "callback_sent",
    );
    assert_eq!(sent["callback_id"], id.as_str());
    let done = ended(dir, waiting, "succeed-me");
    assert_eq!(done["execution"]["status"], "SUCCEEDED", "{done:#}");
    let result: Value = serde_json::from_str(done["execution"]["result"].as_str().unwrap()).unwrap();
    assert_eq!(result, serde_json::json!({"approved": true}), "{done:#}");

    // `callback fail`: 4-6 lets the callback's error fail the execution.
    let failing = "Callback4x6";
    start(dir, failing, "fail-me", r#""fail-me""#);
    let id = callback_id(dir, failing, "fail-me");
    run(dir, &["callback", "fail", &id, "--error-type", "OrderRejected", "--error-message", "out of stock", "--local"]);
    let done = ended(dir, failing, "fail-me");
    assert_eq!(done["execution"]["status"], "FAILED", "{done:#}");
    let error = done["execution"]["error"].to_string();
    assert!(error.contains("OrderRejected") && error.contains("out of stock"), "{done:#}");

    // `callback heartbeat`: 4-5's callback times out after 10 s without one. The target runs on a manual clock, so
    // the test, not the machine's load, says when those seconds pass: heartbeats at 6 s and 12 s keep it open past
    // 10 s, then it succeeds; a second execution left without heartbeats times out at 10 s.
    let beating = "Callback4x5";
    start(dir, beating, "beat-me", r#""beat-me""#);
    let id = callback_id(dir, beating, "beat-me");
    for _ in 0..2 {
        advance(dir, "6s");
        run(dir, &["callback", "heartbeat", &id, "--local"]);
    }
    advance(dir, "6s");
    assert_eq!(history(dir, beating, "beat-me")["execution"]["status"], "RUNNING", "timed out despite heartbeats");
    run(dir, &["callback", "succeed", &id, "--result", r#""alive""#, "--local"]);
    let done = ended(dir, beating, "beat-me");
    assert_eq!(done["execution"]["status"], "SUCCEEDED", "{done:#}");
    assert_eq!(done["execution"]["result"], r#""alive""#, "{done:#}");
    start(dir, beating, "lapse-me", r#""lapse-me""#);
    callback_id(dir, beating, "lapse-me");
    advance(dir, "9s");
    assert_eq!(history(dir, beating, "lapse-me")["execution"]["status"], "RUNNING", "timed out before its 10 s");
    advance(dir, "2s");
    let lapsed = ended(dir, beating, "lapse-me");
    assert_eq!(lapsed["execution"]["status"], "FAILED", "no heartbeat for 11 s: {lapsed:#}");
    assert!(lapsed.to_string().contains("timed out waiting for a heartbeat"), "a heartbeat timeout: {lapsed:#}");
}
