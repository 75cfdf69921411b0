//! The callback (4-x) and wait-for-callback (7-x) handlers under the SDK's `LocalRunner`, which can deliver a
//! success or a timeout to the next awaited callback (it has no failure or heartbeat outcome, so the failure
//! paths are left to the suite itself).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use aws_durable_execution_sdk::test_util::LocalRunner;
use common::{output, run_with, summary};
use serde_json::json;

fn success(payload: &serde_json::Value) -> LocalRunner {
    LocalRunner::new().callback_success(payload)
}

#[tokio::test]
async fn callbacks_are_named_and_return_their_payload() {
    let r = run_with(success(&json!("p")), "4-1", json!("cb-name")).await;
    assert_eq!(output(&r), json!("p"));
    assert_eq!(summary(&r), ["Callback/Callback cb-name Succeeded"]);

    let r = run_with(success(&json!("p")), "4-2", json!(null)).await;
    assert_eq!(summary(&r), ["Callback/Callback approval Succeeded"]);

    let r = run_with(success(&json!("p")), "4-7", json!("cb")).await;
    assert_eq!(summary(&r), ["Callback/Callback cb Succeeded", "Step/Step - Succeeded"]);

    let r = run_with(success(&json!("p")), "4-12", json!("cb")).await;
    assert_eq!(output(&r), json!("p"));
    assert_eq!(summary(&r), ["Callback/Callback cb Succeeded", "Wait/Wait - Succeeded"]);
}

#[tokio::test]
async fn timeouts_fail_the_execution_unless_caught() {
    for id in ["4-3", "4-4", "4-8"] {
        let r = run_with(LocalRunner::new().callback_timeout(), id, json!("cb")).await;
        assert!(r.is_failure(), "{id}");
    }
    let r = run_with(LocalRunner::new().callback_timeout(), "4-14", json!("cb")).await;
    let message = output(&r);
    assert!(message.as_str().is_some_and(|m| m.starts_with("callback timed out")), "{message}");
    assert_eq!(summary(&r), ["Callback/Callback cb TimedOut", "Wait/Wait - Succeeded"]);
}

#[tokio::test]
async fn custom_serdes_convert_the_payload() {
    let stamped = json!({"id": "abc", "message": "hello", "timestamp": "2026-01-01T00:00:00.000Z"});
    let r = run_with(success(&stamped), "4-15", json!("cb")).await;
    assert_eq!(output(&r), json!({"received": {"id": "abc", "message": "hello", "timestamp": 1_767_225_600}}));

    let r = run_with(success(&json!(42)), "4-16", json!("cb")).await;
    assert_eq!(output(&r), json!({"count": 42, "doubled": 84}));
}

#[tokio::test]
async fn two_callbacks_in_every_order() {
    for id in ["4-17", "4-18", "4-19"] {
        let runner = LocalRunner::new().callback_success(&"first").callback_success(&"second");
        let r = run_with(runner, id, json!(["a", "b"])).await;
        assert!(r.is_success(), "{id}: {:?}", r.error_message());
        assert_eq!(summary(&r), ["Callback/Callback a Succeeded", "Callback/Callback b Succeeded"], "{id}");
    }
}

#[tokio::test]
async fn wait_for_callback_is_a_context_holding_the_callback_and_the_submitter() {
    let r = run_with(success(&json!("p")), "7-1", json!("op")).await;
    assert_eq!(output(&r), json!("p"));
    assert_eq!(
        summary(&r),
        ["Context/WaitForCallback op Succeeded", "Callback/Callback - Succeeded", "Step/Step - Succeeded"]
    );
    let r = run_with(success(&json!("p")), "7-2", json!(null)).await;
    assert_eq!(summary(&r)[0], "Context/WaitForCallback approval Succeeded");
    let r = run_with(success(&json!("p")), "7-3", json!(null)).await;
    assert_eq!(summary(&r)[0], "Context/WaitForCallback - Succeeded");

    let r = run_with(success(&json!("p")), "7-8", json!("op")).await;
    assert_eq!(
        summary(&r)[..2],
        ["Context/RunInChildContext wrapper Succeeded", "Context/WaitForCallback op Succeeded"]
    );

    let runner = LocalRunner::new().callback_success(&"one").callback_success(&"two");
    let r = run_with(runner, "7-9", json!(null)).await;
    assert_eq!(output(&r), json!("two"));

    let r = run_with(success(&json!("p")), "7-10", json!("op")).await;
    assert_eq!(
        summary(&r)[..3],
        ["Wait/Wait - Succeeded", "Step/Step - Succeeded", "Context/WaitForCallback op Succeeded"]
    );

    let r = run_with(success(&json!({"status": "approved"})), "7-11", json!("op")).await;
    assert_eq!(output(&r), json!("approved"));

    let r = run_with(success(&json!(null)), "7-15", json!("op")).await;
    assert_eq!(output(&r), json!(null));
}

#[tokio::test]
async fn wait_for_callback_timeouts_and_submitter_failures() {
    let r = run_with(LocalRunner::new().callback_timeout(), "7-5", json!("op")).await;
    assert!(r.is_failure());
    let r = run_with(LocalRunner::new().callback_timeout(), "7-14", json!("op")).await;
    assert_eq!(output(&r), json!("timed-out-handled"));

    let r = run_with(LocalRunner::new(), "7-7", json!("op")).await;
    assert!(r.is_failure());
    assert_eq!(r.invocation_count(), 2, "the submitter ran twice");
    let submitter = r.operations().iter().find(|op| op.op_type() == "Step").unwrap();
    assert_eq!((submitter.status(), submitter.attempt()), ("Failed", 1));
}
