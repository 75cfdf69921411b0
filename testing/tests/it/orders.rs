//! The example order workflow tested step by step: a step retried three times with backoff, a callback kept open by
//! heartbeats, a chained invoke of the real fulfilment function and a seven-day wait, each seen in the typed
//! history as the virtual clock moves, with the times the handler asked for.

use std::time::{Duration, Instant, SystemTime};

use durable_testing::{Details, OperationStatus, Status};
use serde_json::json;

use crate::support::{order, orders_app, orders_stack};

const HOUR: Duration = Duration::from_hours(1);
const DAY: Duration = Duration::from_hours(24);

fn step_attempt(history: &durable_testing::History, name: &str) -> (OperationStatus, u32, Option<SystemTime>) {
    let op = history.get(name).unwrap_or_else(|| panic!("no {name} in {history:#?}"));
    let Details::Step { attempt, next_attempt, .. } = &op.details else { panic!("{name} is not a step: {op:?}") };
    (op.status, *attempt, *next_attempt)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_runs_step_by_step_on_the_virtual_clock() {
    let app = orders_app("orders-steps").await;
    let clock = app.clock();
    let started = Instant::now();
    let t0 = clock.now();
    let execution = app.function("Workflow").unwrap().start(order("o-1", &[2, 3], 3, 7)).await.unwrap();

    // The reservation fails three times; its retries come 2 s, 4 s and 8 s apart, as the handler asked.
    let history = execution.history().await.unwrap();
    assert_eq!(
        step_attempt(&history, orders::RESERVE),
        (OperationStatus::Pending, 1, Some(t0 + Duration::from_secs(2)))
    );
    for (attempt, next) in [(2, 6), (3, 14)] {
        clock.fire_next_timer().await.unwrap();
        let history = execution.history().await.unwrap();
        assert_eq!(
            step_attempt(&history, orders::RESERVE),
            (OperationStatus::Pending, attempt, Some(t0 + Duration::from_secs(next))),
            "{history:#?}"
        );
    }
    assert_eq!(clock.fire_next_timer().await.unwrap(), Some(t0 + Duration::from_secs(14)));
    let history = execution.history().await.unwrap();
    assert_eq!(step_attempt(&history, orders::RESERVE), (OperationStatus::Succeeded, 3, None));
    assert_eq!(history.get(orders::RESERVE).unwrap().attempts(), 4);

    // The approval waits; heartbeats every 50 minutes keep it open past its one-hour heartbeat timeout.
    let approval = execution.callback(orders::APPROVAL);
    // By name or by the callback id the history shows: the same callback.
    let by_id = execution.callback_with_id(&approval.id().await.unwrap());
    for beat in 0..3 {
        clock.advance(Duration::from_mins(50)).await.unwrap();
        if beat == 1 { by_id.heartbeat().await.unwrap() } else { approval.heartbeat().await.unwrap() }
    }
    assert_eq!(execution.status().await.unwrap(), Status::Running);
    assert_eq!(clock.now(), t0 + Duration::from_secs(14) + Duration::from_mins(150));
    approval.succeed(json!({"approved": true})).await.unwrap();

    // The fulfilment ran the real processor; the return window waits seven days from its start.
    let history = execution.history().await.unwrap();
    let fulfil = history.get(orders::FULFIL).unwrap();
    assert_eq!(fulfil.status, OperationStatus::Succeeded, "{history:#?}");
    let Details::ChainedInvoke { result: Some(result), .. } = &fulfil.details else { panic!("{fulfil:?}") };
    assert_eq!((result["count"].clone(), result["sum"].clone()), (json!(2), json!(5)), "{result}");
    let window = history.get(orders::RETURN_WINDOW).unwrap();
    assert_eq!(window.status, OperationStatus::Started);
    assert_eq!(window.details, Details::Wait { until: Some(window.started + 7 * DAY) });

    clock.advance(7 * DAY - Duration::from_secs(1)).await.unwrap();
    assert_eq!(execution.status().await.unwrap(), Status::Running, "the wait ended early");
    clock.advance(Duration::from_secs(1)).await.unwrap();
    let outcome: orders::Outcome = execution.result().await.unwrap();
    assert_eq!((outcome.order_id.as_str(), outcome.status.as_str()), ("o-1", "closed"));
    eprintln!(
        "figure: the order's whole run (4 attempts, 3 heartbeats, a callback, an invoke, 7 days) took {:?} of wall time",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_without_heartbeats_times_out_after_an_hour() {
    let app = orders_app("orders-heartbeat").await;
    let clock = app.clock();
    let execution = app.function("Workflow").unwrap().start(order("o-2", &[1], 0, 0)).await.unwrap();
    execution.callback(orders::APPROVAL).id().await.unwrap();
    clock.advance(HOUR - Duration::from_secs(1)).await.unwrap();
    assert_eq!(execution.status().await.unwrap(), Status::Running);
    clock.advance(Duration::from_secs(1)).await.unwrap();
    assert_eq!(execution.status().await.unwrap(), Status::Failed);
    let history = execution.history().await.unwrap();
    let callback = history.operations.iter().find(|op| op.kind() == "CALLBACK").unwrap();
    assert_eq!(callback.status, OperationStatus::TimedOut, "{history:#?}");
    let error = execution.result::<serde_json::Value>().await.unwrap_err().to_string();
    assert!(error.contains("FAILED"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_order_s_history_matches_its_snapshot() {
    let start = SystemTime::UNIX_EPOCH + Duration::from_hours(500_000);
    let app = durable_testing::TestApp::builder()
        .stack(orders_stack("orders-snapshot"))
        .start_time(start)
        .start()
        .await
        .unwrap();
    let execution = app.function("Workflow").unwrap().start(order("o-3", &[4], 1, 0)).await.unwrap();
    app.clock().fire_next_timer().await.unwrap();
    app.clock().advance(Duration::from_mins(10)).await.unwrap();
    execution.callback(orders::APPROVAL).succeed(json!({"approved": false})).await.unwrap();
    let outcome: orders::Outcome = execution.result().await.unwrap();
    assert_eq!(outcome.status, "rejected");
    insta::assert_json_snapshot!(execution.history().await.unwrap().redacted());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_that_no_operation_has_is_named_with_those_that_wait() {
    let app = orders_app("orders-names").await;
    let execution = app.function("Workflow").unwrap().start(order("o-4", &[1], 0, 0)).await.unwrap();
    let error = execution.callback("aproval").succeed(json!({"approved": true})).await.unwrap_err().to_string();
    assert!(error.contains("no callback named aproval") && error.contains("approval"), "{error}");
    let running = execution.result::<serde_json::Value>().await.unwrap_err().to_string();
    assert!(running.contains("still running") && running.contains("callback"), "{running}");
    let unknown = app.function("Nope").unwrap_err().to_string();
    assert!(unknown.contains("Workflow") && unknown.contains("Fulfil"), "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_advance_fires_each_retry_at_its_own_time() {
    let app = orders_app("orders-advance").await;
    let t0 = app.clock().now();
    let execution = app.function("Workflow").unwrap().start(order("o-5", &[1], 3, 0)).await.unwrap();
    // One minute in one call: the retries at +2 s, +6 s and +14 s each fire when due, each arming the next.
    app.clock().advance(Duration::from_mins(1)).await.unwrap();
    let history = execution.history().await.unwrap();
    let reserve = history.get(orders::RESERVE).unwrap();
    assert_eq!((reserve.status, reserve.attempts()), (OperationStatus::Succeeded, 4), "{history:#?}");
    assert_eq!(reserve.ended, Some(t0 + Duration::from_secs(14)));
    assert_eq!(app.clock().now(), t0 + Duration::from_mins(1));
}
