//! The callback suite (4-x): callbacks created by the handler and completed, failed, heartbeated or left to time
//! out by the validator, alone or interleaved with steps and waits.
//!
//! The validator finds each callback by its `Name` in the history and completes it through the Lambda API, so
//! every callback here is named (from the input where the requirement says so).

use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Value, json};

use crate::serdes::{IntegerText, StampedMessage, StampedMessageSerdes};
use crate::support::{Entry, durable, strings, text};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("4-1", durable!(basic)),
    ("4-2", durable!(explicit_name)),
    ("4-3", durable!(times_out)),
    ("4-4", durable!(heartbeat_times_out)),
    ("4-5", durable!(heartbeat_keeps_alive)),
    ("4-6", durable!(failure_fails_execution)),
    ("4-7", durable!(step_then_failure)),
    ("4-8", durable!(step_then_timeout)),
    ("4-9", durable!(wait_while_callback_resolves)),
    ("4-10", durable!(wait_while_callback_fails)),
    ("4-11", durable!(wait_while_callback_times_out)),
    ("4-12", durable!(result_then_wait)),
    ("4-13", durable!(failure_caught_then_wait)),
    ("4-14", durable!(timeout_caught_then_wait)),
    ("4-15", durable!(typed_payload)),
    ("4-16", durable!(numeric_payload)),
    ("4-17", durable!(one_after_the_other)),
    ("4-18", durable!(both_then_in_order)),
    ("4-19", durable!(both_then_reverse_order)),
];

/// Name 4-2 gives its callback.
pub const APPROVAL: &str = "approval";

/// 4-1: a callback named after the input; its payload is the result.
pub async fn basic(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    Ok(callback.result().await?)
}

/// 4-2: a callback named `approval`.
pub async fn explicit_name(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(APPROVAL).await?;
    Ok(callback.result().await?)
}

/// 4-3: a callback with a five-second timeout that nobody completes: the execution fails.
pub async fn times_out(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).timeout(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-4: a callback with a five-second heartbeat timeout that gets no heartbeat: the execution fails.
pub async fn heartbeat_times_out(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).heartbeat(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-5: a ten-second heartbeat timeout; a heartbeat, then a success, complete it.
pub async fn heartbeat_keeps_alive(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).heartbeat(Duration::from_secs(10)).await?;
    Ok(callback.result().await?)
}

/// 4-6: the external system reports a failure; the handler lets it fail the execution.
pub async fn failure_fails_execution(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    Ok(callback.result().await?)
}

/// 4-7: create the callback, run a step, then wait for the callback, which fails.
pub async fn step_then_failure(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    let _: String = ctx.step(|_| async { Ok("prepared".to_owned()) }).await?;
    Ok(callback.result().await?)
}

/// 4-8: a five-second callback, a step, then the wait for the callback, which times out.
pub async fn step_then_timeout(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).timeout(Duration::from_secs(5)).await?;
    let _: String = ctx.step(|_| async { Ok("prepared".to_owned()) }).await?;
    Ok(callback.result().await?)
}

/// 4-9: create the callback, wait five seconds (it succeeds meanwhile), then read it.
pub async fn wait_while_callback_resolves(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    ctx.wait(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-10: create the callback, wait five seconds (it fails meanwhile), then read it: the execution fails.
pub async fn wait_while_callback_fails(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    ctx.wait(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-11: a three-second callback, then a six-second wait during which it times out, then the read fails.
pub async fn wait_while_callback_times_out(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).timeout(Duration::from_secs(3)).await?;
    ctx.wait(Duration::from_secs(6)).await?;
    Ok(callback.result().await?)
}

/// 4-12: read the callback, then wait two seconds, then return the callback's payload.
pub async fn result_then_wait(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    let payload = callback.result().await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(payload)
}

/// 4-13: the callback fails; the handler keeps the error's message, waits two seconds, and returns it.
pub async fn failure_caught_then_wait(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).await?;
    let message = match callback.result().await {
        Ok(payload) => format!("callback succeeded with {payload}"),
        Err(error) => format!("callback failed: {error:#}"),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(Value::String(message))
}

/// 4-14: a three-second callback times out; the handler keeps a message, waits two seconds, and succeeds.
pub async fn timeout_caught_then_wait(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<Value>().name(text(&event)).timeout(Duration::from_secs(3)).await?;
    let message = match callback.result().await {
        Ok(payload) => format!("callback succeeded with {payload}"),
        Err(error) => format!("callback timed out: {error:#}"),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(Value::String(message))
}

/// 4-15: a serdes reads the callback's JSON payload into a typed message whose RFC 3339 timestamp becomes epoch
/// seconds; the handler returns it under `received`.
pub async fn typed_payload(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<StampedMessage>().name(text(&event)).serdes(StampedMessageSerdes).await?;
    let received = callback.result().await?;
    Ok(json!({ "received": received }))
}

/// 4-16: a serdes reads the callback's payload as a number; the handler returns it and its double.
pub async fn numeric_payload(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx.create_callback::<i64>().name(text(&event)).serdes(IntegerText).await?;
    let count = callback.result().await?;
    Ok(json!({ "count": count, "doubled": count * 2 }))
}

/// The two callback names 4-17 to 4-19 take from their input.
fn two_names(event: &Value) -> Result<(String, String), BoxError> {
    match strings(event)?.as_slice() {
        [a, b] => Ok((a.clone(), b.clone())),
        _ => Err(Box::new(crate::support::UnexpectedInput { expected: "two callback names", got: event.to_string() })),
    }
}

/// 4-17: create A and wait for it, then create B and wait for it.
pub async fn one_after_the_other(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let (a, b) = two_names(&event)?;
    let first = ctx.create_callback::<Value>().name(a).await?.result().await?;
    let second = ctx.create_callback::<Value>().name(b).await?.result().await?;
    Ok(json!([first, second]))
}

/// 4-18: create A and B, then wait for A, then for B.
pub async fn both_then_in_order(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let (a, b) = two_names(&event)?;
    let callback_a = ctx.create_callback::<Value>().name(a).await?;
    let callback_b = ctx.create_callback::<Value>().name(b).await?;
    let first = callback_a.result().await?;
    let second = callback_b.result().await?;
    Ok(json!([first, second]))
}

/// 4-19: create A and B, then wait for B first, then for A.
pub async fn both_then_reverse_order(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let (a, b) = two_names(&event)?;
    let callback_a = ctx.create_callback::<Value>().name(a).await?;
    let callback_b = ctx.create_callback::<Value>().name(b).await?;
    let second = callback_b.result().await?;
    let first = callback_a.result().await?;
    Ok(json!([first, second]))
}
