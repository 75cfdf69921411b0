//! The step suite (1-x): steps, their names, results, serdes, retries, replay and interruption.

use std::time::Duration;

use aws_durable_execution_sdk::builders::{JitterStrategy, RetryStrategyConfig};
use aws_durable_execution_sdk::{BoxError, DurableContext, RetryDecision, StepSemantics};
use serde_json::{Value, json};

use crate::serdes::UppercaseJson;
use crate::support::{
    Entry, durable, fail, field_str, greet, is_transient, no_retry, retry_every_second, text, transient,
};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("1-1", durable!(basic)),
    ("1-2", durable!(named)),
    ("1-3", durable!(sequential)),
    ("1-4", durable!(complex_object)),
    ("1-5", durable!(null_result)),
    ("1-6", durable!(custom_serdes)),
    ("1-7", durable!(context_logger)),
    ("1-8", durable!(step_then_wait)),
    ("1-9", durable!(replay_skips_succeeded_step)),
    ("1-10", durable!(replay_rethrows_failed_step)),
    ("1-11", durable!(retry_then_succeed)),
    ("1-12", durable!(retry_exhaustion)),
    ("1-13", durable!(default_retry)),
    ("1-14", durable!(custom_retry_config)),
    ("1-15", durable!(retry_only_transient)),
    ("1-16", durable!(transient_is_not_retried)),
    ("1-17", durable!(at_most_once_interrupted)),
    ("1-18", durable!(at_most_once_retried)),
    ("1-19", durable!(fails_permanently)),
    ("1-20", durable!(failure_caught)),
];

/// Name 1-2 gives its step.
pub const CUSTOM_STEP_NAME: &str = "custom_step_name";
/// Name 1-17 gives its step.
pub const AT_MOST_ONCE_STEP_NAME: &str = "at_most_once_flaky_step";

/// 1-1: one step greets the input.
pub async fn basic(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = text(&event);
    let greeting = ctx.step(move |_| async move { Ok(greet(&name)) }).await?;
    Ok(Value::String(greeting))
}

/// 1-2: the same step, named `custom_step_name`.
pub async fn named(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = text(&event);
    let greeting = ctx.step(move |_| async move { Ok(greet(&name)) }).name(CUSTOM_STEP_NAME).await?;
    Ok(Value::String(greeting))
}

/// 1-3: the second step builds on the first step's result.
pub async fn sequential(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let first: String = ctx.step(|_| async { Ok("first".to_owned()) }).await?;
    let second = ctx.step(move |_| async move { Ok(format!("{first}_second")) }).await?;
    Ok(Value::String(second))
}

/// 1-4: a step returns a nested object built from the input's `name` and `tags`.
pub async fn complex_object(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = field_str(&event, "name")?;
    let tags = event.get("tags").cloned().unwrap_or_else(|| json!([]));
    let response = ctx
        .step(move |_| async move {
            let count = tags.as_array().map_or(0, Vec::len);
            Ok(json!({ "user": { "name": name, "tags": tags }, "count": count }))
        })
        .await?;
    Ok(response)
}

/// 1-5: a step that returns nothing; its `null` is the execution's result.
pub async fn null_result(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.step(|_| async { Ok(()) }).await?;
    Ok(Value::Null)
}

/// 1-6: a step returns the input; its serdes stores it uppercased, and the handler returns what the SDK hands
/// back (the deserialized, uppercased text).
pub async fn custom_serdes(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let value = ctx.step(move |_| async move { Ok(input) }).serdes(UppercaseJson).await?;
    Ok(Value::String(value))
}

/// 1-7: the step logs when it starts and when it has its greeting (through `tracing`, inside the step span the
/// SDK opens: the Rust SDK's counterpart of a step context logger).
pub async fn context_logger(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = text(&event);
    let greeting = ctx
        .step(move |_| async move {
            tracing::info!("Greeting step started for: {name}");
            let greeting = greet(&name);
            tracing::info!("Greeting step completed with: {greeting}");
            Ok(greeting)
        })
        .await?;
    Ok(Value::String(greeting))
}

/// 1-8: a step, then a two-second wait; the replay returns the step's stored result.
pub async fn step_then_wait(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value: String = ctx.step(|_| async { Ok("computed".to_owned()) }).await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(Value::String(value))
}

/// 1-9: the step logs that it ran; after the one-second wait the replay must not run it again.
pub async fn replay_skips_succeeded_step(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value: String = ctx
        .step(|_| async {
            tracing::info!("step executed");
            Ok("cached_value".to_owned())
        })
        .await?;
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(Value::String(value))
}

/// 1-10: a step fails for good and the handler catches it, then waits a second; the replay gets the stored
/// failure again, without running the step.
pub async fn replay_rethrows_failed_step(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let outcome = ctx
        .step(|_| async {
            tracing::info!("step executed");
            Err::<String, _>(fail("step failed on purpose"))
        })
        .retry_strategy(no_retry)
        .await;
    let caught = outcome.is_err();
    ctx.wait(Duration::from_secs(1)).await?;
    Ok(json!({ "caught": caught }))
}

/// 1-11: fails on the first attempt, succeeds on the second, retried after one second.
pub async fn retry_then_succeed(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value = ctx
        .step(|step| async move {
            if step.attempt() == 1 { Err(fail("first attempt fails")) } else { Ok("Operation succeeded".to_owned()) }
        })
        .retry_strategy(retry_every_second(3))
        .await?;
    Ok(Value::String(value))
}

/// 1-12: always fails; four attempts in all, one second apart, then the execution fails.
pub async fn retry_exhaustion(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let config = RetryStrategyConfig::builder()
        .max_attempts(4)
        .initial_delay(Duration::from_secs(1))
        .backoff_rate(1.0)
        .jitter(JitterStrategy::None)
        .build();
    ctx.step(|step| async move { Err::<(), _>(fail(format!("attempt {} fails", step.attempt()))) })
        .retry_strategy_config(config)
        .await?;
    Ok(Value::Null)
}

/// 1-13: fails twice under the SDK's default retry strategy (no configuration), succeeds on the third attempt.
pub async fn default_retry(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value = ctx
        .step(|step| async move {
            if step.attempt() < 3 {
                Err(fail("not yet"))
            } else {
                Ok(format!("succeeded on attempt {}", step.attempt()))
            }
        })
        .await?;
    Ok(Value::String(value))
}

/// 1-14: fails twice, retried after 2 s then 6 s (initial delay 2 s, backoff rate 3, no jitter); the attempt
/// number comes from the SDK's step context, where other SDKs' versions count attempts in a table.
pub async fn custom_retry_config(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let config = RetryStrategyConfig::builder()
        .max_attempts(5)
        .initial_delay(Duration::from_secs(2))
        .backoff_rate(3.0)
        .jitter(JitterStrategy::None)
        .build();
    let value = ctx
        .step(|step| async move {
            if step.attempt() < 3 {
                Err(fail("not yet"))
            } else {
                Ok(format!("succeeded on attempt {}", step.attempt()))
            }
        })
        .retry_strategy_config(config)
        .await?;
    Ok(Value::String(value))
}

/// 1-15: the first attempt throws a `TransientError`; the strategy retries that error type (after one second)
/// and nothing else.
pub async fn retry_only_transient(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value = ctx
        .step(|step| async move {
            if step.attempt() == 1 { Err(transient("temporary failure")) } else { Ok("recovered".to_owned()) }
        })
        .retry_strategy(|error, attempt| {
            if is_transient(error) && attempt < 3 {
                RetryDecision::Retry { delay: Duration::from_secs(1) }
            } else {
                RetryDecision::Stop
            }
        })
        .await?;
    Ok(Value::String(value))
}

/// 1-16: the step throws a `TransientError` and the strategy refuses to retry that type: the step fails for
/// good on its first attempt.
pub async fn transient_is_not_retried(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.step(|_| async { Err::<(), _>(transient("temporary failure")) })
        .retry_strategy(|error, attempt| {
            if is_transient(error) || attempt >= 3 {
                RetryDecision::Stop
            } else {
                RetryDecision::Retry { delay: Duration::from_secs(1) }
            }
        })
        .await?;
    Ok(Value::Null)
}

/// 1-17: an at-most-once step without retries logs the input and crashes the process. The next invocation
/// finds the step started but unfinished and, at most once, records it as failed instead of running it again.
pub async fn at_most_once_interrupted(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    ctx.step(move |_| async move {
        tracing::info!("processing {input}");
        crate::support::crash_process::<Result<(), BoxError>>()
    })
    .name(AT_MOST_ONCE_STEP_NAME)
    .semantics(StepSemantics::AtMostOncePerRetry)
    .retry_strategy(no_retry)
    .await?;
    Ok(Value::Null)
}

/// 1-18: an at-most-once step with retries logs the input on every attempt; the first attempt crashes the
/// process, which the next invocation records as a failed attempt and retries; the second attempt succeeds.
pub async fn at_most_once_retried(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let input = text(&event);
    let value = ctx
        .step(move |step| async move {
            tracing::info!("processing {input}");
            if step.attempt() == 1 {
                crate::support::crash_process::<()>();
            }
            Ok("succeeded on second attempt".to_owned())
        })
        .semantics(StepSemantics::AtMostOncePerRetry)
        .retry_strategy(retry_every_second(3))
        .await?;
    Ok(Value::String(value))
}

/// 1-19: a step without retries always fails, and so does the execution.
pub async fn fails_permanently(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.step(|_| async { Err::<(), _>(fail("always fails")) }).retry_strategy(no_retry).await?;
    Ok(Value::Null)
}

/// 1-20: a failing step without retries is caught; a second step supplies the fallback result.
pub async fn failure_caught(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let first = ctx.step(|_| async { Err::<String, _>(fail("primary failed")) }).retry_strategy(no_retry).await;
    let value = match first {
        Ok(value) => value,
        Err(_) => ctx.step(|_| async { Ok("fallback_result".to_owned()) }).await?,
    };
    Ok(Value::String(value))
}
