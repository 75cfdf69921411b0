//! The child-context handlers (3-x) under the SDK's `LocalRunner`. 3-12 crashes the process (see
//! `tests/process.rs`); 3-11's replay needs `ContextDetails.ReplayChildren` from the backend, which the SDK
//! reads (`src/lib.rs:613`, `src/client.rs:608`) but `LocalRunner`'s in-memory backend does not keep, so only
//! its first invocation is checked here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use aws_durable_execution_sdk::test_util::LocalRunner;
use common::{output, payload, run, run_with, summary};
use serde_json::json;

#[tokio::test]
async fn child_contexts_return_their_steps_results() {
    let r = run("3-1", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(summary(&r), ["Context/RunInChildContext - Succeeded", "Step/Step - Succeeded"]);

    let r = run("3-2", json!({"name": "ctx-name", "value": "v"})).await;
    assert_eq!(output(&r), json!("v"));
    assert_eq!(summary(&r)[0], "Context/RunInChildContext ctx-name Succeeded");

    let r = run("3-3", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(summary(&r).len(), 3);

    let r = run("3-6", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(
        summary(&r),
        [
            "Context/RunInChildContext outer Succeeded",
            "Step/Step - Succeeded",
            "Context/RunInChildContext inner Succeeded",
            "Step/Step - Succeeded"
        ]
    );
}

#[tokio::test]
async fn failures_inside_children_fail_or_are_caught() {
    let r = run("3-4", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Context/RunInChildContext failing_child Failed", "Step/Step - Failed"]);

    let r = run("3-5", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(summary(&r), ["Context/RunInChildContext - Failed", "Step/Step - Failed", "Step/Step - Succeeded"]);

    let r = run("3-15", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Context/RunInChildContext failing_body Failed"]);

    let r = run("3-16", json!(null)).await;
    assert_eq!(output(&r), json!(null));
    assert_eq!(summary(&r), ["Context/RunInChildContext empty_body Succeeded"]);
}

#[tokio::test]
async fn retries_inside_children() {
    let r = run("3-7", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(r.operations()[1].attempt(), 1);

    let r = run("3-8", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Context/RunInChildContext exhausted_child Failed", "Step/Step - Failed"]);
    assert_eq!(r.invocation_count(), 2, "two attempts");
}

#[tokio::test]
async fn waits_inside_and_after_children() {
    let r = run("3-9", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(r.invocation_count(), 2);

    let r = run("3-10", json!("abc")).await;
    assert_eq!(
        summary(&r),
        ["Context/RunInChildContext step_and_wait Succeeded", "Step/Step - Succeeded", "Wait/Wait - Succeeded"]
    );

    let r = run("3-13", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(
        summary(&r),
        ["Context/RunInChildContext waiting_child Succeeded", "Wait/Wait - Succeeded", "Step/Step - Succeeded"]
    );

    let r = run("3-17", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(summary(&r), ["Context/RunInChildContext logging_child Succeeded", "Wait/Wait - Succeeded"]);

    let r = run("3-18", json!("abc")).await;
    assert_eq!(output(&r), json!("abc"));
    assert_eq!(r.invocation_count(), 3);
    assert_eq!(summary(&r).len(), 5);
}

#[tokio::test]
async fn child_serdes_stores_raw_uppercase_text() {
    let r = run("3-14", json!("hello child")).await;
    assert_eq!(output(&r), json!("HELLO CHILD"));
    assert_eq!(payload(&r, 0).as_deref(), Some("HELLO CHILD"), "raw text, not JSON");
}

#[tokio::test]
async fn a_result_over_the_checkpoint_limit_is_stored_without_payload() {
    // One invocation only: the wait suspends, and the runner's replay would need ReplayChildren (see above).
    let r = run_with(LocalRunner::new().max_invocations(1), "3-11", json!("abc")).await;
    let ops = summary(&r);
    assert_eq!(ops[..2], ["Context/RunInChildContext large_result Succeeded", "Step/Step - Succeeded"]);
    assert_eq!(payload(&r, 0), None, "the child's result is not checkpointed");
    assert_eq!(payload(&r, 1).as_deref(), Some("\"x\""), "the step's small result is");
}
