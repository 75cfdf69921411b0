//! The parallel (8-x) and map (9-x) handlers under the SDK's `LocalRunner`: the contexts each records, the
//! results in input order, the completion projections, serdes, nesting and replay. 9-16's replay-children
//! reconstruction needs `ContextDetails.ReplayChildren` from the backend, which `LocalRunner` does not keep; it
//! completes in one invocation here, so nothing is replayed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use common::{output, payload, run, summary};
use serde_json::json;

#[tokio::test]
async fn parallel_results_come_in_branch_order() {
    let r = run("8-1", json!(null)).await;
    assert_eq!(output(&r), json!(["task-1", "task-2"]));
    assert_eq!(
        summary(&r),
        [
            "Context/Parallel parallel Succeeded",
            "Context/ParallelBranch - Succeeded",
            "Step/Step - Succeeded",
            "Context/ParallelBranch - Succeeded",
            "Step/Step - Succeeded"
        ]
    );
    assert_eq!(output(&run("8-2", json!(null)).await), json!(["alpha", "beta"]));
    assert_eq!(summary(&run("8-2", json!(null)).await)[0], "Context/Parallel - Succeeded");
    assert_eq!(output(&run("8-3", json!(null)).await), json!(["one", "two"]));
    assert_eq!(output(&run("8-4", json!(null)).await), json!(["hello", 42, {"k": "v"}]));
    let r = run("8-5", json!(null)).await;
    assert_eq!(output(&r), json!([]));
    assert_eq!(summary(&r), ["Context/Parallel empty Succeeded"]);
    assert_eq!(output(&run("8-11", json!(null)).await), json!(["r0", "r1", "r2"]));
}

#[tokio::test]
async fn parallel_completion_configurations() {
    let cases = [
        (
            "8-6",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "status": "FAILED", "successCount": 1, "failureCount": 1, "totalCount": 2}),
        ),
        ("8-8", json!({"completionReason": "MIN_SUCCESSFUL_REACHED", "successCount": 2, "totalCount": 2})),
        (
            "8-9",
            json!({"completionReason": "ALL_COMPLETED", "status": "FAILED", "successCount": 2, "failureCount": 1, "totalCount": 3}),
        ),
        (
            "8-10",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "successCount": 0, "failureCount": 2, "totalCount": 2}),
        ),
        (
            "8-13",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "successCount": 0, "failureCount": 2, "totalCount": 2}),
        ),
        (
            "8-16",
            json!({"completionReason": "ALL_COMPLETED", "status": "FAILED", "successCount": 0, "failureCount": 3, "totalCount": 3}),
        ),
        (
            "8-17",
            json!({"completionReason": "ALL_COMPLETED", "status": "FAILED", "successCount": 2, "failureCount": 1, "totalCount": 3}),
        ),
        (
            "8-18",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "successCount": 0, "failureCount": 2, "totalCount": 2}),
        ),
        ("8-20", json!({"hasFailure": true, "successCount": 2, "failureCount": 1, "errorCount": 1})),
        (
            "8-22",
            json!({"completionReason": "ALL_COMPLETED", "status": "FAILED", "successCount": 3, "failureCount": 1, "totalCount": 4}),
        ),
    ];
    for (id, expected) in cases {
        assert_eq!(output(&run(id, json!(null)).await), expected, "{id}");
    }
    let r = run("8-6", json!(null)).await;
    assert_eq!(summary(&r).len(), 3, "the third branch never started: {:?}", summary(&r));
}

#[tokio::test]
async fn parallel_failures_that_fail_the_execution() {
    let r = run("8-7", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Context/Parallel throwing Succeeded", "Context/ParallelBranch - Failed"]);

    let r = run("8-19", json!(null)).await;
    assert!(r.is_failure());
    assert!(r.operations().is_empty(), "refused before anything was checkpointed");
}

#[tokio::test]
async fn parallel_nesting_serdes_and_replay() {
    let r = run("8-12", json!(null)).await;
    assert_eq!(output(&r), json!(["fa", "fb"]));
    assert_eq!(summary(&r), ["Context/Parallel flat Succeeded", "Step/Step - Succeeded", "Step/Step - Succeeded"]);

    let r = run("8-14", json!(null)).await;
    assert_eq!(output(&r), json!(["b0", "b1"]));
    assert_eq!(r.invocation_count(), 2);

    let r = run("8-15", json!(null)).await;
    assert_eq!(output(&r), json!(["x", "y"]));
    assert_eq!(payload(&r, 1).as_deref(), Some(r#"{"wrapped":"x"}"#));

    let r = run("8-21", json!(null)).await;
    assert_eq!(output(&r), json!([["i1", "i2"]]));
    assert_eq!(summary(&r)[2], "Context/Parallel inner Succeeded");
}

#[tokio::test]
async fn map_results_come_in_item_order() {
    let r = run("9-1", json!(["World", "Kiro"])).await;
    assert_eq!(output(&r), json!(["Hello, World!", "Hello, Kiro!"]));
    assert_eq!(
        summary(&r),
        [
            "Context/Map map Succeeded",
            "Context/MapIteration - Succeeded",
            "Step/Step - Succeeded",
            "Context/MapIteration - Succeeded",
            "Step/Step - Succeeded"
        ]
    );
    assert_eq!(output(&run("9-2", json!([1, 2])).await), json!([2, 4]));
    assert_eq!(output(&run("9-3", json!([10, 20, 30])).await), json!([10, 21, 32]));
    let r = run("9-4", json!([])).await;
    assert_eq!(output(&r), json!([]));
    assert_eq!(summary(&r), ["Context/Map empty Succeeded"]);
    assert_eq!(output(&run("9-11", json!(null)).await), json!(["r0", "r1", "r2"]));
}

#[tokio::test]
async fn map_completion_configurations() {
    let cases = [
        (
            "9-5",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "status": "FAILED", "successCount": 1, "failureCount": 1, "totalCount": 2}),
        ),
        ("9-7", json!({"completionReason": "MIN_SUCCESSFUL_REACHED", "successCount": 2, "totalCount": 2})),
        (
            "9-8",
            json!({"completionReason": "ALL_COMPLETED", "status": "FAILED", "successCount": 2, "failureCount": 1, "totalCount": 3}),
        ),
        (
            "9-9",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "successCount": 0, "failureCount": 2, "totalCount": 2}),
        ),
        (
            "9-10",
            json!({"completionReason": "FAILURE_TOLERANCE_EXCEEDED", "successCount": 0, "failureCount": 2, "totalCount": 2}),
        ),
        ("9-16", json!({"successCount": 4, "totalCount": 4})),
        (
            "9-18",
            json!({"completionReason": "ALL_COMPLETED", "status": "FAILED", "successCount": 1, "failureCount": 1, "totalCount": 2}),
        ),
    ];
    for (id, expected) in cases {
        assert_eq!(output(&run(id, json!(null)).await), expected, "{id}");
    }
    let r = run("9-6", json!(null)).await;
    assert!(r.is_failure());
    assert_eq!(summary(&r), ["Context/Map throwing Succeeded", "Context/MapIteration - Failed"]);
}

#[tokio::test]
async fn map_names_serdes_nesting_and_replay() {
    let r = run("9-12", json!(null)).await;
    assert_eq!(summary(&r), ["Context/Map flat Succeeded", "Step/Step - Succeeded", "Step/Step - Succeeded"]);

    let r = run("9-13", json!([1, 2])).await;
    assert_eq!(output(&r), json!([10, 20]));
    assert_eq!(summary(&r)[1..], ["Context/MapIteration item-1 Succeeded", "Context/MapIteration item-2 Succeeded"]);

    let r = run("9-14", json!(null)).await;
    assert_eq!(output(&r), json!(["X", "Y"]));
    assert_eq!((payload(&r, 1).as_deref(), payload(&r, 2).as_deref()), (Some("wrapped:X"), Some("wrapped:Y")));

    let r = run("9-15", json!(null)).await;
    assert_eq!(output(&r), json!(["r0", "r1"]));
    assert_eq!(r.invocation_count(), 2);

    assert_eq!(output(&run("9-17", json!(null)).await), json!(["A", "B"]));

    for id in ["9-19", "9-20"] {
        let r = run(id, json!(null)).await;
        assert_eq!(output(&r), json!(["X", "Y"]), "{id}");
        assert_eq!(payload(&r, 0).as_deref(), Some("OPSERDE:X,Y"), "{id}");
    }
    assert_eq!(run("9-20", json!(null)).await.invocation_count(), 2, "rebuilt through the serdes after the wait");
}
