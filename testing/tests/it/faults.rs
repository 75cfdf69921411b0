//! Each fault kind, and the restart: the workflow's outcome survives them, and the history shows what each did.

use std::time::Duration;

use durable_testing::{Details, OperationStatus, Status};
use serde_json::json;

use crate::support::{order, orders_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_when_a_step_starts_is_invoked_again_and_the_order_completes() {
    let app = orders_app("faults-kill").await;
    app.faults().kill_process_when_started("Workflow", orders::RESERVE).unwrap();
    let execution = app.function("Workflow").unwrap().start(order("k-1", &[1, 1], 0, 0)).await.unwrap();
    // The killed invocation failed; the service invokes the handler again after a backoff, which is a timer.
    let history = execution.history().await.unwrap();
    assert_eq!(history.get(orders::RESERVE).unwrap().status, OperationStatus::Started, "{history:#?}");
    assert_eq!(app.faults().fired().unwrap(), 1);
    let retry = app.clock().fire_next_timer().await.unwrap().expect("no re-invocation is scheduled");
    assert!(retry > history.operations[0].started, "{retry:?}");
    execution.callback(orders::APPROVAL).succeed(json!({"approved": true})).await.unwrap();
    let outcome: orders::Outcome = execution.result().await.unwrap();
    assert_eq!(outcome.status, "closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_chained_invoke_fails_the_order_with_the_injected_error() {
    let app = orders_app("faults-fail").await;
    app.faults().fail_next_invoke("Fulfil").unwrap();
    let execution = app.function("Workflow").unwrap().start(order("f-1", &[1], 0, 0)).await.unwrap();
    execution.callback(orders::APPROVAL).succeed(json!({"approved": true})).await.unwrap();
    assert_eq!(execution.status().await.unwrap(), Status::Failed);
    let history = execution.history().await.unwrap();
    let fulfil = history.get(orders::FULFIL).unwrap();
    assert_eq!(fulfil.status, OperationStatus::Failed);
    let Details::ChainedInvoke { error: Some(error), .. } = &fulfil.details else { panic!("{fulfil:?}") };
    assert_eq!(error.error_type.as_deref(), Some("Fault.InjectedFailure"));
    // Only the next one: a second order goes through.
    let second = app.function("Workflow").unwrap().start(order("f-2", &[1], 0, 0)).await.unwrap();
    second.callback(orders::APPROVAL).succeed(json!({"approved": true})).await.unwrap();
    assert_eq!(second.status().await.unwrap(), Status::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_chained_invoke_waits_until_a_restart_invokes_it_again() {
    let app = orders_app("faults-cut").await;
    app.faults().cut_next_invoke("Fulfil").unwrap();
    let execution = app.function("Workflow").unwrap().start(order("c-1", &[3], 0, 0)).await.unwrap();
    execution.callback(orders::APPROVAL).succeed(json!({"approved": true})).await.unwrap();
    let history = execution.history().await.unwrap();
    assert_eq!(history.get(orders::FULFIL).unwrap().status, OperationStatus::Started, "{history:#?}");
    assert_eq!(execution.status().await.unwrap(), Status::Running);

    app.restart().await.unwrap();
    let outcome: orders::Outcome = execution.result().await.unwrap();
    assert_eq!(outcome.fulfilment.unwrap()["sum"], json!(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_during_a_wait_keeps_the_clock_and_the_stored_results() {
    let app = orders_app("faults-restart").await;
    let execution = app.function("Workflow").unwrap().start(order("r-1", &[5], 0, 2)).await.unwrap();
    execution.callback(orders::APPROVAL).succeed(json!({"approved": true})).await.unwrap();
    let before = execution.history().await.unwrap();
    let now = app.clock().now();

    app.restart().await.unwrap();
    assert_eq!(app.clock().now(), now, "the restart moved the clock");
    app.clock().advance(Duration::from_hours(48)).await.unwrap();
    let outcome: orders::Outcome = execution.result().await.unwrap();
    assert_eq!(outcome.status, "closed");
    let after = execution.history().await.unwrap();
    // What ran before the restart is what the replay used: same operations, same ends.
    for name in [orders::RESERVE, orders::FULFIL] {
        assert_eq!(before.get(name), after.get(name), "{name} changed across the restart");
    }
}
