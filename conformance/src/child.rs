//! The child-context suite (3-x): child contexts, their names, nesting, failures, replay, large results and
//! serdes.
//!
//! The Rust SDK names a child context only when asked (`.name(..)`), where other SDKs name it after the
//! function that runs in it. Where a requirement's recorded history carries a `Name` for the context (a
//! `${NAME1}` placeholder), the handler names it; where the history has no `Name`, it does not.

use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Value, json};

use crate::serdes::UppercaseText;
use crate::support::{Entry, durable, fail, field_str, no_retry, retry_every_second, text};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("3-1", durable!(basic)),
    ("3-2", durable!(named_from_input)),
    ("3-3", durable!(sequential_steps)),
    ("3-4", durable!(step_failure_fails_execution)),
    ("3-5", durable!(failure_caught)),
    ("3-6", durable!(nested)),
    ("3-7", durable!(step_retry_inside)),
    ("3-8", durable!(step_retries_exhausted)),
    ("3-9", durable!(replay_returns_stored_result)),
    ("3-10", durable!(step_and_wait_inside)),
    ("3-11", durable!(large_result_replays_children)),
    ("3-12", durable!(interrupted_step_reexecuted)),
    ("3-13", durable!(wait_inside_then_step)),
    ("3-14", durable!(custom_serdes)),
    ("3-15", durable!(error_without_operation)),
    ("3-16", durable!(null_without_operation)),
    ("3-17", durable!(logs_once)),
    ("3-18", durable!(mixed_inside_and_after)),
];

/// Bytes of the result 3-11 builds: over the SDK's 256 KiB checkpoint limit, so the context is stored in
/// replay-children mode.
pub const LARGE_RESULT_BYTES: usize = 300 * 1024;

/// 3-1: an unnamed child context whose step returns the input.
pub async fn basic(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let value: String = ctx
        .run_in_child_context(move |child| async move {
            child.step(move |_| async move { Ok(input) }).await.map_err(Into::into)
        })
        .await?;
    Ok(Value::String(value))
}

/// 3-2: the child context is named after the input's `name`; its step returns the input's `value`.
pub async fn named_from_input(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = field_str(&event, "name")?;
    let value = field_str(&event, "value")?;
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            child.step(move |_| async move { Ok(value) }).await.map_err(Into::into)
        })
        .name(name)
        .await?;
    Ok(Value::String(result))
}

/// 3-3: two steps in a child context, the second passing on the first's result.
pub async fn sequential_steps(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            let first: String = child.step(move |_| async move { Ok(input) }).await?;
            let second: String = child.step(move |_| async move { Ok(first) }).await?;
            Ok(second)
        })
        .name("sequential_steps")
        .await?;
    Ok(Value::String(result))
}

/// 3-4: the child's step fails without retries; the child fails, and so does the execution.
pub async fn step_failure_fails_execution(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.run_in_child_context(|child| async move {
        child.step(|_| async { Err::<(), _>(fail("step inside the child failed")) }).retry_strategy(no_retry).await?;
        Ok(())
    })
    .name("failing_child")
    .await?;
    Ok(Value::Null)
}

/// 3-5: the same failing child, caught; a recovery step after it returns the input.
pub async fn failure_caught(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let caught = ctx
        .run_in_child_context(|child| async move {
            child
                .step(|_| async { Err::<(), _>(fail("step inside the child failed")) })
                .retry_strategy(no_retry)
                .await?;
            Ok(())
        })
        .await;
    tracing::info!(caught = caught.is_err(), "child context outcome");
    let input = text(&event);
    let value = ctx.step(move |_| async move { Ok(input) }).await?;
    Ok(Value::String(value))
}

/// 3-6: an outer child context runs a step, then an inner child context with its own step.
pub async fn nested(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |outer| async move {
            let outer_input = input.clone();
            let _: String = outer.step(move |_| async move { Ok(outer_input) }).await?;
            let inner: String = outer
                .run_in_child_context(move |inner| async move {
                    inner.step(move |_| async move { Ok(input) }).await.map_err(Into::into)
                })
                .name("inner")
                .await?;
            Ok(inner)
        })
        .name("outer")
        .await?;
    Ok(Value::String(result))
}

/// 3-7: the child's step fails once and succeeds when retried a second later.
pub async fn step_retry_inside(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            child
                .step(move |step| async move {
                    if step.attempt() == 1 { Err(fail("first attempt fails")) } else { Ok(input) }
                })
                .retry_strategy(retry_every_second(3))
                .await
                .map_err(Into::into)
        })
        .name("retrying_child")
        .await?;
    Ok(Value::String(result))
}

/// 3-8: the child's step always fails; two attempts a second apart, then the child and the execution fail.
pub async fn step_retries_exhausted(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.run_in_child_context(|child| async move {
        child
            .step(|step| async move { Err::<(), _>(fail(format!("attempt {} fails", step.attempt()))) })
            .retry_strategy(retry_every_second(2))
            .await?;
        Ok(())
    })
    .name("exhausted_child")
    .await?;
    Ok(Value::Null)
}

/// 3-9: a child context with one step, then a wait; the replay takes the child's stored result.
pub async fn replay_returns_stored_result(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            child.step(move |_| async move { Ok(input) }).await.map_err(Into::into)
        })
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(Value::String(result))
}

/// 3-10: a step and a wait inside the child context.
pub async fn step_and_wait_inside(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            let value: String = child.step(move |_| async move { Ok(input) }).await?;
            child.wait(Duration::from_secs(1)).await?;
            Ok(value)
        })
        .name("step_and_wait")
        .await?;
    Ok(Value::String(result))
}

/// 3-11: the child logs the input, runs a step with a small result, and returns a result too large to
/// checkpoint; a wait follows. The replay must re-run the child body (logging again) to rebuild the result.
pub async fn large_result_replays_children(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let large: String = ctx
        .run_in_child_context(move |child| async move {
            tracing::info!("building a large result for {input}");
            let seed: String = child.step(|_| async { Ok("x".to_owned()) }).await?;
            Ok(seed.repeat(LARGE_RESULT_BYTES))
        })
        .name("large_result")
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(json!({ "length": large.len() }))
}

/// 3-12: the child's step crashes the process the first time it runs. The next invocation re-executes the
/// step (at-least-once, the default) and records its success without a second start.
///
/// "The first time" is what the SDK tells the handler: right before the step, the child context is replaying
/// exactly when an earlier invocation already started that step.
pub async fn interrupted_step_reexecuted(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            let first_run = !child.is_replaying();
            child
                .step(move |_| async move {
                    if first_run {
                        crate::support::crash_process::<()>();
                    }
                    Ok(input)
                })
                .await
                .map_err(Into::into)
        })
        .await?;
    Ok(Value::String(result))
}

/// 3-13: a child context holding only a wait returns the input; a step after it returns the input too.
pub async fn wait_inside_then_step(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let from_child = input.clone();
    let _: String = ctx
        .run_in_child_context(move |child| async move {
            child.wait(Duration::from_secs(1)).await?;
            Ok(from_child)
        })
        .name("waiting_child")
        .await?;
    let value = ctx.step(move |_| async move { Ok(input) }).await?;
    Ok(Value::String(value))
}

/// 3-14: the child's result goes through a serdes that stores it uppercased as raw text; the handler returns
/// what the SDK hands back.
pub async fn custom_serdes(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |child| async move {
            child.step(move |_| async move { Ok(input) }).await.map_err(Into::into)
        })
        .name("uppercase_child")
        .serdes(UppercaseText)
        .await?;
    Ok(Value::String(result))
}

/// 3-15: the child body fails directly, without any durable operation.
pub async fn error_without_operation(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.run_in_child_context(|_child| async { Err::<(), _>(fail("child body failed")) }).name("failing_body").await?;
    Ok(Value::Null)
}

/// 3-16: the child body returns nothing, without any durable operation.
pub async fn null_without_operation(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.run_in_child_context(|_child| async { Ok(()) }).name("empty_body").await?;
    Ok(Value::Null)
}

/// 3-17: the child only logs the input and returns it; a wait follows. The replay must take the stored result
/// without running the child body (so the line is logged once).
pub async fn logs_once(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let result: String = ctx
        .run_in_child_context(move |_child| async move {
            tracing::info!("child context received {input}");
            Ok(input)
        })
        .name("logging_child")
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(Value::String(result))
}

/// 3-18: a step and a wait inside the child, then a step and a wait after it.
pub async fn mixed_inside_and_after(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let inside = input.clone();
    let _: String = ctx
        .run_in_child_context(move |child| async move {
            let value: String = child.step(move |_| async move { Ok(inside) }).await?;
            child.wait(Duration::from_secs(1)).await?;
            Ok(value)
        })
        .name("mixed_child")
        .await?;
    let value = ctx.step(move |_| async move { Ok(input) }).await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(Value::String(value))
}
