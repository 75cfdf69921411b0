//! The wait-for-condition suite (6-x): polling a check function under a wait strategy, with its state threaded
//! from check to check across suspensions.
//!
//! Where a requirement leaves the delay between checks open, the strategy polls every second without jitter,
//! which keeps the suite fast and the recorded delays predictable.

use std::time::Duration;

use aws_durable_execution_sdk::builders::JitterStrategy;
use aws_durable_execution_sdk::builders::wait_for_condition::{WaitStrategy, WaitStrategyBuilder};
use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Value, json};

use crate::serdes::HexState;
use crate::support::{Entry, durable, fail, integer};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("6-1", durable!(count_to_threshold)),
    ("6-2", durable!(already_satisfied)),
    ("6-3", durable!(named)),
    ("6-4", durable!(initial_state)),
    ("6-5", durable!(fixed_delay)),
    ("6-6", durable!(max_attempts_exceeded)),
    ("6-7", durable!(check_fails)),
    ("6-8", durable!(check_failure_caught)),
    ("6-9", durable!(structured_state)),
    ("6-10", durable!(null_state)),
    ("6-11", durable!(custom_serdes)),
    ("6-12", durable!(result_feeds_step)),
    ("6-13", durable!(two_in_sequence)),
];

/// Name 6-3 gives its operation.
pub const POLL_STATUS: &str = "poll-status";

/// A strategy that completes when `done` holds and otherwise polls again after one second.
fn every_second<S>(done: impl Fn(&S) -> bool + Send + Sync + 'static) -> WaitStrategyBuilder<S> {
    WaitStrategy::builder(done).initial_delay(Duration::from_secs(1)).backoff_rate(1.0).jitter(JitterStrategy::None)
}

/// Counts from `start` by one per check until `threshold`.
async fn count(ctx: &DurableContext, start: i64, threshold: i64, name: Option<&str>) -> Result<i64, BoxError> {
    let mut operation = ctx
        .wait_for_condition(|_, state: i64| async move { Ok(state + 1) }, start)
        .wait_strategy(every_second(move |state: &i64| *state >= threshold).build());
    if let Some(name) = name {
        operation = operation.name(name);
    }
    Ok(operation.await?)
}

/// 6-1: from 0, one more per check, until the input threshold (3).
pub async fn count_to_threshold(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(json!(count(&ctx, 0, integer(&event)?, None).await?))
}

/// 6-2: the initial state (5) already satisfies the condition; the check returns it unchanged and nothing
/// suspends.
pub async fn already_satisfied(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let threshold = integer(&event)?;
    let state = ctx
        .wait_for_condition(|_, state: i64| async move { Ok(state) }, 5)
        .wait_strategy(every_second(move |state: &i64| *state >= threshold).build())
        .await?;
    Ok(json!(state))
}

/// 6-3: named `poll-status`, counting from 0 to the input threshold (2).
pub async fn named(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(json!(count(&ctx, 0, integer(&event)?, Some(POLL_STATUS)).await?))
}

/// 6-4: counting from the configured initial state 5 to the input threshold (8).
pub async fn initial_state(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(json!(count(&ctx, 5, integer(&event)?, None).await?))
}

/// 6-5: a fixed two-second delay between checks (no backoff, no jitter), counting to the input threshold (3).
pub async fn fixed_delay(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let threshold = integer(&event)?;
    let state = ctx
        .wait_for_condition(|_, state: i64| async move { Ok(state + 1) }, 0)
        .wait_strategy(
            WaitStrategy::builder(move |state: &i64| *state >= threshold)
                .initial_delay(Duration::from_secs(2))
                .backoff_rate(1.0)
                .jitter(JitterStrategy::None)
                .build(),
        )
        .await?;
    Ok(json!(state))
}

/// 6-6: the condition never holds; the strategy allows three checks, then the operation and the execution fail.
pub async fn max_attempts_exceeded(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let state = ctx
        .wait_for_condition(|_, state: i64| async move { Ok(state + 1) }, 0)
        .wait_strategy(every_second(|_: &i64| false).max_attempts(3).build())
        .await?;
    Ok(json!(state))
}

/// 6-7: the check throws on its first run; the operation fails and so does the execution.
pub async fn check_fails(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let state = ctx
        .wait_for_condition(|_, _state: i64| async move { Err::<i64, _>(fail("the check failed")) }, 0)
        .wait_strategy(every_second(|state: &i64| *state >= 1).build())
        .await?;
    Ok(json!(state))
}

/// 6-8: the same failing check, caught: the handler returns `recovered`.
pub async fn check_failure_caught(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let outcome = ctx
        .wait_for_condition(|_, _state: i64| async move { Err::<i64, _>(fail("the check failed")) }, 0)
        .wait_strategy(every_second(|state: &i64| *state >= 1).build())
        .await;
    Ok(match outcome {
        Ok(state) => json!(state),
        Err(_) => json!("recovered"),
    })
}

/// The structured state of 6-9.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// `PENDING` until done, then `DONE`.
    pub status: String,
    /// Checks so far.
    pub attempts: u32,
}

/// 6-9: the state is `{status, attempts}`; each check counts an attempt and the second one marks it `DONE`.
pub async fn structured_state(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let initial = Progress { status: "PENDING".into(), attempts: 0 };
    let state = ctx
        .wait_for_condition(
            |_, state: Progress| async move {
                let attempts = state.attempts + 1;
                let status = if attempts >= 2 { "DONE" } else { "PENDING" };
                Ok(Progress { status: status.into(), attempts })
            },
            initial,
        )
        .wait_strategy(every_second(|state: &Progress| state.status == "DONE").build())
        .await?;
    Ok(serde_json::to_value(state)?)
}

/// 6-10: the check returns `null` and the strategy stops at once.
pub async fn null_state(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let state = ctx
        .wait_for_condition(|_, _state: Value| async move { Ok(Value::Null) }, Value::Null)
        .wait_strategy(every_second(|_: &Value| true).build())
        .await?;
    Ok(state)
}

/// 6-11: a string state checkpointed through a custom (hex) serdes; each check appends `x` until it is two
/// characters long.
pub async fn custom_serdes(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let state = ctx
        .wait_for_condition(|_, state: String| async move { Ok(format!("{state}x")) }, String::new())
        .wait_strategy(every_second(|state: &String| state.len() >= 2).build())
        .serdes(HexState)
        .await?;
    Ok(Value::String(state))
}

/// 6-12: count to the input threshold (2), then a step multiplies the result by ten.
pub async fn result_feeds_step(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let reached = count(&ctx, 0, integer(&event)?, None).await?;
    let product: i64 = ctx.step(move |_| async move { Ok(reached * 10) }).await?;
    Ok(json!(product))
}

/// 6-13: count from 0 to 2, then, seeded with that result, from 2 to 4.
pub async fn two_in_sequence(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let first = count(&ctx, 0, 2, None).await?;
    let second = count(&ctx, first, 4, None).await?;
    Ok(json!(second))
}
