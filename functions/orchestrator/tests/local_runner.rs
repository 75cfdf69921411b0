//! The orchestrator under the SDK's `LocalRunner`: the step is recorded
//! once with the processor payload, the invoke is started after it, invalid
//! input fails the execution before any invoke, and a replay does not re-run
//! the step.
//!
//! `LocalRunner` 0.1.0 never completes a chained invoke (its backend only
//! advances waits, retries and callbacks), so a run that reaches the invoke
//! ends suspended with the invoke `Started`. Completing it is covered by
//! `tests/envelope.rs`, which drives the SDK's production entry point.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use aws_durable_execution_sdk::test_util::{LocalRunner, TestResult};
use common::{Logs, SEED_PAYLOAD, event, handler};
use serde_json::value::RawValue;

async fn run(json: &str) -> TestResult<Box<RawValue>> {
    LocalRunner::new().run(handler, event(json)).await
}

#[tokio::test]
async fn step_is_recorded_once_then_the_invoke_starts() {
    let logs = Logs::capture();
    let result = run(r#"{"values": [10, 20, 30, 40, 50]}"#).await;

    assert!(result.is_suspended(), "the runner cannot complete a chained invoke: {:?}", result.error_message());
    let ops = result.operations();
    let summary: Vec<_> = ops.iter().map(|op| (op.op_type(), op.name(), op.status())).collect();
    assert_eq!(
        summary,
        [("Step", Some("prepare_input"), "Succeeded"), ("ChainedInvoke", Some("invoke_processor"), "Started"),]
    );
    assert_eq!(ops[0].result(), Some(SEED_PAYLOAD), "the step records the processor payload verbatim");
    assert_eq!(logs.count("Starting durable orchestration"), 1);
    assert_eq!(logs.count("Preparing input values for processing"), 1);
    assert_eq!(logs.count("Processing complete"), 0, "the invoke never returned");
}

#[tokio::test]
async fn missing_values_use_the_default_and_empty_values_are_valid() {
    let _logs = Logs::capture();
    let defaulted = run("{}").await;
    assert_eq!(defaulted.operations()[0].result(), Some(SEED_PAYLOAD));

    let empty = run(r#"{"values": []}"#).await;
    let ops = empty.operations();
    assert_eq!(ops.len(), 2, "an empty list is passed on to the processor: {ops:?}");
    assert_eq!(ops[0].result(), Some(r#"{"values": [], "operation": "sum_and_average"}"#));
    assert_eq!(ops[1].op_type(), "ChainedInvoke");
}

#[tokio::test]
async fn numbers_reach_the_step_exactly_as_python_reads_them() {
    let _logs = Logs::capture();
    let result = run(r#"{"values":[1.50,-0,18446744073709551616,2.5e-5]}"#).await;
    assert_eq!(
        result.operations()[0].result(),
        Some(r#"{"values": [1.5, 0, 18446744073709551616, 2.5e-05], "operation": "sum_and_average"}"#)
    );
}

#[tokio::test]
async fn invalid_values_fail_the_execution_before_any_invoke() {
    let _logs = Logs::capture();
    let cases = [
        (r#"{"values": "10,20"}"#, r#""values" must be an array of numbers, got a string ("10,20")"#),
        (r#"{"values": null}"#, r#""values" must be an array of numbers, got null (null)"#),
        (r#"{"values": [1, "2", 3]}"#, r#""values"[1] must be a finite number, got a string ("2")"#),
        (r#"{"values": [1, 2, true]}"#, r#""values"[2] must be a finite number, got a boolean (true)"#),
        (r#"{"values": [{"n": 1}]}"#, r#""values"[0] must be a finite number, got an object ({"n": 1})"#),
    ];
    for (input, message) in cases {
        let result = run(input).await;
        assert!(result.is_failure(), "{input} must fail the execution");
        assert_eq!(result.error_type(), Some("InvalidValues"), "{input}");
        let recorded = result.error_message().unwrap_or_default();
        assert!(recorded.contains(message), "{input}: {recorded}");

        let ops = result.operations();
        assert_eq!(ops.len(), 1, "{input}: nothing after the failed step: {ops:?}");
        assert_eq!((ops[0].name(), ops[0].status()), (Some("prepare_input"), "Failed"));
        assert_eq!(ops[0].error_type(), Some("InvalidValues"));
        assert_eq!(ops[0].attempt(), 0, "{input}: a validation failure is not retried");
    }
}

#[tokio::test]
async fn an_event_that_is_not_an_object_fails_before_any_operation() {
    let _logs = Logs::capture();
    let result = run("[10, 20]").await;
    assert!(result.is_failure());
    assert_eq!(result.error_type(), Some("InvalidEvent"));
    assert!(result.error_message().unwrap_or_default().contains("got an array ([10, 20])"));
    assert!(result.operations().is_empty());
}

/// The invoke's START checkpoint fails transiently (the third checkpoint
/// call, after the step's START and SUCCEED): the invocation fails, the
/// runner re-invokes like the service does, and the replay returns the
/// recorded step result without running the step body again.
#[tokio::test]
async fn replay_returns_the_recorded_step_without_running_it_again() {
    let logs = Logs::capture();
    let result = LocalRunner::new()
        .fail_checkpoints_after_retryable(2, 1)
        .run(handler, event(r#"{"values": [10, 20, 30, 40, 50]}"#))
        .await;

    assert_eq!(result.invocation_count(), 2, "one failed invocation, one replay");
    let ops = result.operations();
    let summary: Vec<_> = ops.iter().map(|op| (op.name(), op.status())).collect();
    assert_eq!(summary, [(Some("prepare_input"), "Succeeded"), (Some("invoke_processor"), "Started")]);
    assert_eq!(ops[0].result(), Some(SEED_PAYLOAD));
    assert_eq!(logs.count("Preparing input values for processing"), 1, "the step body ran once");
    assert_eq!(logs.count("Starting durable orchestration"), 1, "not logged again on replay");
}
