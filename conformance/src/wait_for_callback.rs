//! The wait-for-callback suite (7-x): one operation that creates a callback, hands its id to a submitter, and
//! waits for the validator to complete, fail, heartbeat or abandon it.

use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext, StepContext};
use serde_json::{Value, json};

use crate::support::{Entry, durable, fail, retry_every_second, text};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("7-1", durable!(basic)),
    ("7-2", durable!(static_name)),
    ("7-3", durable!(unnamed)),
    ("7-4", durable!(failure_fails_execution)),
    ("7-5", durable!(times_out)),
    ("7-6", durable!(failure_caught)),
    ("7-7", durable!(submitter_retries_exhausted)),
    ("7-8", durable!(inside_child_context)),
    ("7-9", durable!(two_in_sequence)),
    ("7-10", durable!(after_wait_and_step)),
    ("7-11", durable!(json_object_payload)),
    ("7-12", durable!(heartbeat_times_out)),
    ("7-13", durable!(heartbeat_keeps_alive)),
    ("7-14", durable!(timeout_caught)),
    ("7-15", durable!(empty_payload)),
];

/// The submitter the requirements describe: it receives the callback id and does nothing durable (it logs the
/// id, which is where a real one would hand it to an external system).
async fn submit(_step: StepContext, callback_id: String) -> Result<(), BoxError> {
    tracing::info!(callback_id = %callback_id, "callback id submitted");
    Ok(())
}

/// 7-1: named after the input; the payload is the result.
pub async fn basic(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).await?)
}

/// 7-2: named `approval`.
pub async fn static_name(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name("approval").await?)
}

/// 7-3: an anonymous submitter and no name.
pub async fn unnamed(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(|_, _id| async { Ok(()) }).await?)
}

/// 7-4: the callback fails and the handler lets the failure fail the execution.
pub async fn failure_fails_execution(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).await?)
}

/// 7-5: a three-second timeout that nobody beats: the execution fails.
pub async fn times_out(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).timeout(Duration::from_secs(3)).await?)
}

/// 7-6: the callback fails; the handler catches it and returns `recovered`.
pub async fn failure_caught(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let outcome = ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).await;
    Ok(outcome.unwrap_or_else(|_| json!("recovered")))
}

/// 7-7: the submitter always throws; two attempts a second apart, then the operation and the execution fail.
pub async fn submitter_retries_exhausted(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx
        .wait_for_callback::<Value, _, _>(|step, _id| async move {
            Err(fail(format!("submitter attempt {} failed", step.attempt())))
        })
        .name(text(&event))
        .submitter_retry(retry_every_second(2))
        .await?)
}

/// 7-8: the operation runs inside a child context named `wrapper`, which returns its result.
pub async fn inside_child_context(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = text(&event);
    let value: Value = ctx
        .run_in_child_context(move |child| async move {
            child.wait_for_callback::<Value, _, _>(submit).name(name).await.map_err(Into::into)
        })
        .name("wrapper")
        .await?;
    Ok(value)
}

/// 7-9: two operations, `first` then `second`; the second's payload is the result.
pub async fn two_in_sequence(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let _first: Value = ctx.wait_for_callback::<Value, _, _>(submit).name("first").await?;
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name("second").await?)
}

/// 7-10: a one-second wait, a step with fixed data, then the operation named after the input.
pub async fn after_wait_and_step(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.wait(Duration::from_secs(1)).await?;
    let _: Value = ctx.step(|_| async { Ok(json!({ "prepared": true })) }).await?;
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).await?)
}

/// The JSON object 7-11's callback delivers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// The decision, e.g. `approved`.
    pub status: String,
}

/// 7-11: the payload is read as a JSON object and the handler returns its `status`.
pub async fn json_object_payload(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let decision = ctx.wait_for_callback::<Decision, _, _>(submit).name(text(&event)).await?;
    Ok(Value::String(decision.status))
}

/// 7-12: a five-second heartbeat timeout and no heartbeat: the execution fails.
pub async fn heartbeat_times_out(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).heartbeat(Duration::from_secs(5)).await?)
}

/// 7-13: a ten-second heartbeat timeout; a heartbeat, then a success.
pub async fn heartbeat_keeps_alive(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).heartbeat(Duration::from_secs(10)).await?)
}

/// 7-14: a three-second timeout, caught: the handler returns `timed-out-handled`.
pub async fn timeout_caught(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let outcome = ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).timeout(Duration::from_secs(3)).await;
    Ok(outcome.unwrap_or_else(|_| json!("timed-out-handled")))
}

/// 7-15: a success without a payload: the result is `null`.
pub async fn empty_payload(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.wait_for_callback::<Value, _, _>(submit).name(text(&event)).await?)
}
