//! The wait-for-condition handlers (6-x) under the SDK's `LocalRunner`: the state each check produces, the
//! number of suspensions, and the failures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use common::{output, payload, run, summary};
use serde_json::json;

#[tokio::test]
async fn counters_reach_their_threshold() {
    for (id, input, result, invocations) in
        [("6-1", 3, 3, 3), ("6-2", 5, 5, 1), ("6-3", 2, 2, 2), ("6-4", 8, 8, 3), ("6-5", 3, 3, 3)]
    {
        let r = run(id, json!(input)).await;
        assert_eq!(output(&r), json!(result), "{id}");
        assert_eq!(r.invocation_count(), invocations, "{id}");
        assert_eq!(r.operations()[0].sub_type(), Some("WaitForCondition"), "{id}");
    }
    assert_eq!(summary(&run("6-3", json!(2)).await), ["Step/WaitForCondition poll-status Succeeded"]);
}

#[tokio::test]
async fn exhaustion_and_check_failures() {
    let r = run("6-6", json!(0)).await;
    assert!(r.is_failure());
    assert_eq!(r.invocation_count(), 3, "three checks");

    let r = run("6-7", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Step/WaitForCondition - Failed"]);

    let r = run("6-8", json!(null)).await;
    assert_eq!(output(&r), json!("recovered"));
}

#[tokio::test]
async fn states_of_other_types() {
    assert_eq!(output(&run("6-9", json!(null)).await), json!({"status": "DONE", "attempts": 2}));
    assert_eq!(output(&run("6-10", json!(null)).await), json!(null));
    let r = run("6-11", json!(null)).await;
    assert_eq!(output(&r), json!("xx"));
    assert_eq!(payload(&r, 0).as_deref(), Some("\"7878\""), "the state is stored through the hex serdes");
}

#[tokio::test]
async fn results_feed_later_operations() {
    let r = run("6-12", json!(2)).await;
    assert_eq!(output(&r), json!(20));
    assert_eq!(summary(&r), ["Step/WaitForCondition - Succeeded", "Step/Step - Succeeded"]);

    let r = run("6-13", json!(null)).await;
    assert_eq!(output(&r), json!(4));
    assert_eq!(summary(&r).len(), 2);
}
