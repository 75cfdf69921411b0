//! The wait suite (2-x): durable timers, their names, and durations given in other units.

use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Value, json};

use crate::support::{Entry, durable};

/// The suite's handlers by requirement id.
pub const HANDLERS: &[Entry] = &[
    ("2-1", durable!(basic)),
    ("2-2", durable!(named)),
    ("2-3", durable!(sequential)),
    ("2-4", durable!(one_minute)),
    ("2-5", durable!(one_hour)),
];

/// Name 2-2 gives its wait.
pub const CUSTOM_WAIT_NAME: &str = "custom_wait_name";

/// 2-1: one two-second wait.
pub async fn basic(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(Value::Null)
}

/// 2-2: one two-second wait named `custom_wait_name`.
pub async fn named(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.wait(Duration::from_secs(2)).name(CUSTOM_WAIT_NAME).await?;
    Ok(Value::Null)
}

/// 2-3: two named two-second waits, one after the other.
pub async fn sequential(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.wait(Duration::from_secs(2)).name("wait-1").await?;
    ctx.wait(Duration::from_secs(2)).name("wait-2").await?;
    Ok(json!({ "completedWaits": 2 }))
}

/// 2-4: a wait given in minutes; the SDK must record 60 seconds.
pub async fn one_minute(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.wait(Duration::from_mins(1)).await?;
    Ok(Value::Null)
}

/// 2-5: a wait given in hours; the SDK must record 3600 seconds.
pub async fn one_hour(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    ctx.wait(Duration::from_hours(1)).await?;
    Ok(Value::Null)
}
