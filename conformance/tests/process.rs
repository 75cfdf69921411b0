//! What needs a process of its own: the log lines the production logger writes to standard output (flat JSON
//! carrying the execution ARN), the plugin probe's hook records, the handlers that crash the process on purpose
//! (1-17, 1-18, 3-12), and the invoke handlers, which read their targets' names from the environment.
//!
//! Each case re-runs this test binary as a child process (`CONFORMANCE_TEST_CHILD=<case>`, with the
//! environment it needs) whose only test, [`child`], installs the logger, runs handlers under the SDK's
//! `LocalRunner` and prints a summary line; the parent reads the child's standard output. [`child`] is ignored in
//! a normal run (it is no test of its own) and fails when run without a case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use std::process::{Command, Output};

use aws_durable_execution_sdk::test_util::LocalRunner;
use common::run_with;
use conformance::targets::{ECHO_ENV, FAILING_ENV, MEASURE_ENV, TENANT_ECHO_ENV};
use serde_json::{Value, json};

const CHILD_ENV: &str = "CONFORMANCE_TEST_CHILD";

/// Runs `case` in a child process with `env` and returns its output.
fn spawn(case: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", "child", "--ignored", "--nocapture", "--test-threads=1"]).env(CHILD_ENV, case);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    // The child ran the one test it was started for, not none (a filter that matches nothing passes).
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("running 1 test"), "the child process ran no `child` test for {case}: {output:?}");
    output
}

/// The JSON objects the child wrote on standard output, one per line (the test harness prints `test child ... `
/// without a newline before the first one).
fn records(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.find('{').and_then(|start| serde_json::from_str::<Value>(&line[start..]).ok()))
        .filter(Value::is_object)
        .collect()
}

/// Records whose `key` equals `value`.
fn with<'a>(records: &'a [Value], key: &str, value: &Value) -> Vec<&'a Value> {
    records.iter().filter(|r| r.get(key) == Some(value)).collect()
}

/// The summary line the child printed for one handler.
fn summary<'a>(records: &'a [Value], id: &str) -> &'a Value {
    records.iter().find(|r| r["child_summary"] == json!(id)).unwrap_or_else(|| panic!("no summary for {id}"))
}

/// Prints one handler's outcome for the parent.
fn print_summary(id: &str, result: &aws_durable_execution_sdk::test_util::TestResult<Value>) {
    let operations: Vec<Value> = result
        .operations()
        .iter()
        .map(|op| json!({"id": op.id(), "type": op.op_type(), "name": op.name(), "status": op.status()}))
        .collect();
    let line = json!({
        "child_summary": id,
        "success": result.is_success(),
        "failure": result.is_failure(),
        "suspended": result.is_suspended(),
        "output": result.output(),
        "error": result.error_message(),
        "operations": operations,
    });
    println!("{line}");
}

/// The child side, started by [`spawn`] only.
#[tokio::test]
#[ignore = "the child process of the other tests, which start it with CONFORMANCE_TEST_CHILD"]
async fn child() {
    let case = std::env::var(CHILD_ENV).expect("run by the other tests of this file, with CONFORMANCE_TEST_CHILD");
    let probe = case.starts_with("probe");
    conformance::logging::init(probe);
    let plan: &[(&str, Value)] = match case.as_str() {
        "logs" => &[("1-7", json!("in1-7put")), ("3-17", json!("in3-17put"))],
        "probe-10-2" => &[("10-2", json!("probed"))],
        "probe-10-3" => &[("10-3", json!(null))],
        "crash-1-17" => &[("1-17", json!("crash1-17"))],
        "crash-1-18" => &[("1-18", json!("crash1-18"))],
        "crash-3-12" => &[("3-12", json!("crash3-12"))],
        "invoke" => &[
            ("5-1", json!("hi")),
            ("5-2", json!({"name": "invoke-name", "payload": "p"})),
            ("5-5", json!(null)),
            ("5-7", json!(null)),
            ("5-8", json!({"tenantId": "t-1", "payload": "p"})),
            ("5-11", json!(null)),
            ("5-13", json!(null)),
            ("5-14", json!(null)),
            ("5-15", json!({"data": "hello"})),
            ("5-16", json!("hello")),
        ],
        other => panic!("unknown case {other}"),
    };
    for (id, input) in plan {
        let result = run_with(LocalRunner::new(), id, input.clone()).await;
        print_summary(id, &result);
    }
}

#[test]
fn log_lines_are_flat_json_carrying_the_execution_arn() {
    let output = spawn("logs", &[]);
    assert!(output.status.success(), "{output:?}");
    let records = records(&output);
    for (message, count) in [
        ("Greeting step started for: in1-7put", 1),
        ("Greeting step completed with: Hello, in1-7put!", 1),
        ("child context received in3-17put", 1),
    ] {
        let lines = with(&records, "message", &json!(message));
        assert_eq!(lines.len(), count, "{message}: {records:#?}");
        let line = lines[0];
        let arn = line["executionArn"].as_str().unwrap_or_default();
        assert!(!arn.is_empty(), "the execution ARN is a top-level field: {line}");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["timestamp"].as_str().map(str::len), Some(24), "{line}");
    }
    assert!(with(&records, "level", &json!("ERROR")).is_empty(), "no error lines");
}

#[test]
fn the_probe_reports_operation_and_attempt_hooks_with_the_history_ids() {
    // One handler per process: every execution's first operation has the same id.
    let output = spawn("probe-10-2", &[]);
    assert!(output.status.success(), "{output:?}");
    let records = records(&output);
    let hooks = |hook: &str| -> Vec<&Value> {
        records.iter().filter(|r| r["plugin"] == "CONFPLUGIN" && r["hook"] == hook).collect()
    };
    let step_id = summary(&records, "10-2")["operations"][0]["id"].clone();

    let starts: Vec<_> = hooks("operation-start").into_iter().filter(|r| r["op"] == step_id).collect();
    assert_eq!(starts.len(), 1, "{records:#?}");
    let ends: Vec<_> = hooks("operation-end").into_iter().filter(|r| r["op"] == step_id).collect();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0]["status"], "SUCCEEDED");
    assert!(ends[0]["durableExecutionArn"].as_str().is_some_and(|a| !a.is_empty()), "{}", ends[0]);
    assert_eq!(ends[0]["timestamp"].as_str().map(str::len), Some(24), "stamped like every line: {}", ends[0]);

    let firsts: Vec<Value> = hooks("invocation-start").iter().map(|r| r["first"].clone()).collect();
    assert_eq!(firsts, [json!(true)]);

    let output = spawn("probe-10-3", &[]);
    assert!(output.status.success(), "{output:?}");
    let records = self::records(&output);
    let retried_id = summary(&records, "10-3")["operations"][0]["id"].clone();
    let attempts: Vec<(String, Value, Value)> = records
        .iter()
        .filter(|r| r["op"] == retried_id && r["hook"].as_str().is_some_and(|h| h.starts_with("attempt-")))
        .map(|r| {
            (r["hook"].as_str().unwrap().to_owned(), r["n"].clone(), r.get("outcome").cloned().unwrap_or(Value::Null))
        })
        .collect();
    assert_eq!(
        attempts,
        [
            ("attempt-start".to_owned(), json!(1), Value::Null),
            ("attempt-end".to_owned(), json!(1), json!("FAILED")),
            ("attempt-start".to_owned(), json!(2), Value::Null),
            ("attempt-end".to_owned(), json!(2), json!("SUCCEEDED")),
        ]
    );
    let firsts: Vec<Value> =
        records.iter().filter(|r| r["hook"] == "invocation-start").map(|r| r["first"].clone()).collect();
    assert_eq!(firsts, [json!(true), json!(false)], "the retry runs in a second invocation");
}

#[test]
fn crashing_handlers_log_the_input_then_exit_before_finishing_the_step() {
    for (case, input) in [("crash-1-17", "crash1-17"), ("crash-1-18", "crash1-18"), ("crash-3-12", "crash3-12")] {
        let output = spawn(case, &[]);
        assert_eq!(output.status.code(), Some(1), "{case} exits like a crashed function: {output:?}");
        let records = records(&output);
        assert!(records.iter().all(|r| r.get("child_summary").is_none()), "{case}: the run never finished");
        if case != "crash-3-12" {
            let logged = with(&records, "message", &json!(format!("processing {input}")));
            assert_eq!(logged.len(), 1, "{case}: the line is flushed before the exit: {records:#?}");
            assert!(logged[0]["executionArn"].is_string());
        }
    }
}

#[test]
fn invoke_handlers_start_a_chained_invoke_of_their_target() {
    let env = [
        (ECHO_ENV, "echo-fn"),
        (FAILING_ENV, "failing-fn"),
        (MEASURE_ENV, "measure-fn"),
        (TENANT_ECHO_ENV, "tenant-echo-fn"),
    ];
    let output = spawn("invoke", &env);
    assert!(output.status.success(), "{output:?}");
    let records = records(&output);
    for (id, first) in [
        ("5-1", "ChainedInvoke"),
        ("5-2", "ChainedInvoke"),
        ("5-5", "ChainedInvoke"),
        ("5-7", "ChainedInvoke"),
        ("5-8", "ChainedInvoke"),
        ("5-11", "Step"),
        ("5-13", "Context"),
        ("5-14", "ChainedInvoke"),
        ("5-15", "ChainedInvoke"),
        ("5-16", "ChainedInvoke"),
    ] {
        let s = summary(&records, id);
        // The runner cannot complete a chained invoke: every run ends suspended on it.
        assert_eq!(s["suspended"], true, "{id}: {s}");
        assert_eq!(s["operations"][0]["type"], first, "{id}: {s}");
        let invoke = s["operations"].as_array().unwrap().iter().find(|op| op["type"] == "ChainedInvoke").unwrap();
        assert_eq!(invoke["status"], "Started", "{id}");
    }
    assert_eq!(summary(&records, "5-2")["operations"][0]["name"], "invoke-name");
}
