//! The invoke suite (5-x): chained invokes of plain target functions ([`crate::targets`]), their names,
//! payloads, failures, tenant ids, replay and serdes.
//!
//! Each handler reads the names of the targets it calls from environment variables; which targets those are is
//! declared with the stacks (`conformance_app::catalog::INVOKE_TARGETS`), which set exactly them.

use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Value, json};

use crate::serdes::{UppercasePayload, UppercaseRawResult};
use crate::support::{Entry, durable, field_str, text};
use crate::targets::{ECHO_ENV, FAILING_ENV, MEASURE_ENV, TENANT_ECHO_ENV, function_name};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("5-1", durable!(echo_input)),
    ("5-2", durable!(named_from_input)),
    ("5-3", durable!(complex_payload)),
    ("5-4", durable!(null_payload)),
    ("5-5", durable!(target_failure_fails_execution)),
    ("5-6", durable!(target_failure_caught)),
    ("5-7", durable!(large_payload)),
    ("5-8", durable!(tenant_id)),
    ("5-9", durable!(replay_skips_invoke)),
    ("5-10", durable!(replay_rethrows_invoke_failure)),
    ("5-11", durable!(step_then_invoke)),
    ("5-12", durable!(invoke_then_step)),
    ("5-13", durable!(invoke_in_child_context)),
    ("5-14", durable!(two_invokes)),
    ("5-15", durable!(payload_serdes)),
    ("5-16", durable!(result_serdes)),
];

/// Bytes of the string 5-7 sends: near the 256 KiB a durable operation can checkpoint (the input is stored with
/// the invoke's start), leaving room for the rest of the checkpoint request.
pub const LARGE_PAYLOAD_BYTES: usize = 200 * 1024;

/// 5-1: invoke the echo target with the input and return what it returns.
pub async fn echo_input(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, event).await?)
}

/// 5-2: the invoke is named after the input's `name` and sends its `payload`.
pub async fn named_from_input(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = field_str(&event, "name")?;
    let payload = event.get("payload").cloned().unwrap_or(Value::Null);
    Ok(ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, payload).name(name).await?)
}

/// 5-3: the echo target returns a nested object unchanged.
pub async fn complex_payload(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, event).await?)
}

/// 5-4: `null` goes to the echo target and comes back.
pub async fn null_payload(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, Value::Null).await?)
}

/// 5-5: the target fails; the invoke error fails the execution.
pub async fn target_failure_fails_execution(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.invoke::<Value, _>(function_name(FAILING_ENV)?, Value::Null).await?)
}

/// 5-6: the target fails; the handler catches the invoke error and returns a fallback.
pub async fn target_failure_caught(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let target = function_name(FAILING_ENV)?;
    match ctx.invoke::<Value, _>(target, Value::Null).await {
        Ok(value) => Ok(value),
        Err(error) => Ok(json!({ "fallback": true, "error": format!("{error}") })),
    }
}

/// 5-7: a payload near the checkpoint limit goes to the measuring target, which returns its size.
pub async fn large_payload(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let payload = json!({ "data": "x".repeat(LARGE_PAYLOAD_BYTES) });
    Ok(ctx.invoke::<Value, _>(function_name(MEASURE_ENV)?, payload).await?)
}

/// 5-8: the input's `payload` goes to a tenant-isolated echo target under the input's `tenantId`.
pub async fn tenant_id(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let tenant = field_str(&event, "tenantId")?;
    let payload = event.get("payload").cloned().unwrap_or(Value::Null);
    Ok(ctx.invoke::<Value, _>(function_name(TENANT_ECHO_ENV)?, payload).tenant_id(tenant).await?)
}

/// 5-9: invoke, then wait a second; the replay after the wait takes the stored invoke result.
pub async fn replay_skips_invoke(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value = ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, Value::Null).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(value)
}

/// 5-10: the invoke fails and is caught, then a one-second wait; the replay gets the stored failure again.
pub async fn replay_rethrows_invoke_failure(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let caught = ctx.invoke::<Value, _>(function_name(FAILING_ENV)?, Value::Null).await.is_err();
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(json!({ "caught": caught }))
}

/// 5-11: a step's result is the payload of the invoke that follows it.
pub async fn step_then_invoke(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let prepared: Value = ctx.step(|_| async { Ok(json!({ "prepared": true })) }).await?;
    Ok(ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, prepared).await?)
}

/// 5-12: the invoke's result feeds a step, whose result is returned.
pub async fn invoke_then_step(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let echoed = ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, event).await?;
    let processed: Value = ctx.step(move |_| async move { Ok(json!({ "processed": echoed })) }).await?;
    Ok(processed)
}

/// 5-13: the invoke runs inside a child context, which returns its result.
pub async fn invoke_in_child_context(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let target = function_name(ECHO_ENV)?;
    let value: Value = ctx
        .run_in_child_context(
            move |child| async move { child.invoke::<Value, _>(target, event).await.map_err(Into::into) },
        )
        .await?;
    Ok(value)
}

/// 5-14: two invokes of two targets, one after the other.
pub async fn two_invokes(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let first = ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, event).await?;
    let second = ctx.invoke::<Value, _>(function_name(MEASURE_ENV)?, first.clone()).await?;
    Ok(json!([first, second]))
}

/// 5-15: the outgoing payload goes through a serdes that uppercases its strings before it is sent.
pub async fn payload_serdes(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    Ok(ctx.invoke::<Value, _>(function_name(ECHO_ENV)?, event).payload_serdes(UppercasePayload).await?)
}

/// 5-16: the result is read through a serdes that uppercases the raw reply text; the handler returns that text.
pub async fn result_serdes(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let value: String = ctx.invoke::<String, _>(function_name(ECHO_ENV)?, input).serdes(UppercaseRawResult).await?;
    Ok(Value::String(value))
}
