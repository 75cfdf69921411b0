//! The step (1-x) and wait (2-x) handlers under the SDK's `LocalRunner`: the operations each records, their
//! names, retry attempts and results, and the execution's outcome. The crashing handlers (1-17, 1-18) end the
//! process and are covered by `tests/process.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use common::{output, payload, run, summary};
use serde_json::json;

#[tokio::test]
async fn steps_return_greetings_objects_and_null() {
    let r = run("1-1", json!("World")).await;
    assert_eq!(output(&r), json!("Hello, World!"));
    assert_eq!(summary(&r), ["Step/Step - Succeeded"]);

    let r = run("1-2", json!("World")).await;
    assert_eq!(summary(&r), ["Step/Step custom_step_name Succeeded"]);

    let r = run("1-3", json!(null)).await;
    assert_eq!(output(&r), json!("first_second"));
    assert_eq!(summary(&r).len(), 2);

    let r = run("1-4", json!({"name": "Alice", "tags": ["admin", "active"]})).await;
    assert_eq!(output(&r), json!({"user": {"name": "Alice", "tags": ["admin", "active"]}, "count": 2}));

    let r = run("1-5", json!(null)).await;
    assert_eq!(output(&r), json!(null));
    assert_eq!(payload(&r, 0).as_deref(), Some("null"));
}

#[tokio::test]
async fn custom_serdes_stores_and_returns_the_uppercase_text() {
    let r = run("1-6", json!("hello world")).await;
    assert_eq!(output(&r), json!("HELLO WORLD"), "the handler returns what the serdes reads back");
    assert_eq!(payload(&r, 0).as_deref(), Some("\"HELLO WORLD\""));
}

#[tokio::test]
async fn a_wait_after_a_step_replays_the_step() {
    for (id, value) in [("1-8", "computed"), ("1-9", "cached_value")] {
        let r = run(id, json!(null)).await;
        assert_eq!(output(&r), json!(value), "{id}");
        assert_eq!(summary(&r), ["Step/Step - Succeeded", "Wait/Wait - Succeeded"], "{id}");
        assert_eq!(r.invocation_count(), 2, "{id}: suspended on the wait once");
    }
    let r = run("1-10", json!(null)).await;
    assert_eq!(output(&r), json!({"caught": true}));
    assert_eq!(summary(&r), ["Step/Step - Failed", "Wait/Wait - Succeeded"]);
    assert_eq!(r.operations()[0].error_type(), Some("IntentionalFailure"));
}

#[tokio::test]
async fn retries_follow_each_strategy() {
    let r = run("1-11", json!(null)).await;
    assert_eq!(output(&r), json!("Operation succeeded"));
    assert_eq!((r.operations()[0].attempt(), r.invocation_count()), (1, 2), "one retry");

    let r = run("1-12", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!((r.operations()[0].attempt(), r.invocation_count()), (3, 4), "four attempts in all");

    for id in ["1-13", "1-14"] {
        let r = run(id, json!(null)).await;
        assert_eq!(output(&r), json!("succeeded on attempt 3"), "{id}");
        assert_eq!(r.invocation_count(), 3, "{id}");
    }

    let r = run("1-15", json!(null)).await;
    assert_eq!(output(&r), json!("recovered"));
    assert_eq!(r.operations()[0].attempt(), 1, "the TransientError was retried");

    let r = run("1-16", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(r.error_type(), Some("TransientError"));
    assert_eq!((r.operations()[0].attempt(), r.invocation_count()), (0, 1), "not retried");
}

#[tokio::test]
async fn permanent_failures_fail_or_fall_back() {
    let r = run("1-19", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Step/Step - Failed"]);

    let r = run("1-20", json!(null)).await;
    assert_eq!(output(&r), json!("fallback_result"));
    assert_eq!(summary(&r), ["Step/Step - Failed", "Step/Step - Succeeded"]);
}

#[tokio::test]
async fn waits_are_named_and_sequenced() {
    let r = run("2-1", json!(null)).await;
    assert_eq!(summary(&r), ["Wait/Wait - Succeeded"]);
    let r = run("2-2", json!(null)).await;
    assert_eq!(summary(&r), ["Wait/Wait custom_wait_name Succeeded"]);
    let r = run("2-3", json!(null)).await;
    assert_eq!(output(&r), json!({"completedWaits": 2}));
    assert_eq!(summary(&r), ["Wait/Wait wait-1 Succeeded", "Wait/Wait wait-2 Succeeded"]);
    assert_eq!(r.invocation_count(), 3);
    for id in ["2-4", "2-5"] {
        assert_eq!(summary(&run(id, json!(null)).await), ["Wait/Wait - Succeeded"], "{id}");
    }
}
