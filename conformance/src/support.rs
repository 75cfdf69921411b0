//! What the handlers share: the handler function types, reading the requirement's input, the errors the
//! handlers raise on purpose, the retry strategies the requirements name, and the deliberate process crash.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aws_durable_execution_sdk::{BoxError, DurableContext, RetryDecision, StepError, TypedError};
use serde_json::Value;

/// What every handler returns: the execution's result as JSON, or the error that fails it.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, BoxError>> + Send>>;

/// A durable handler: the requirement's `Input` as JSON and the durable context.
pub type DurableHandler = fn(Value, DurableContext) -> HandlerFuture;

/// A plain (non-durable) Lambda handler, for the invoke suite's targets.
pub type PlainHandler = fn(Value) -> HandlerFuture;

/// One entry of a suite's handler table: the handler id (the requirement id) and the handler.
pub type Entry = (&'static str, DurableHandler);

/// Wraps an `async fn(Value, DurableContext) -> Result<Value, BoxError>` as a [`DurableHandler`], so the suite
/// tables stay one line per requirement.
macro_rules! durable {
    ($handler:path) => {
        |event, ctx| ::std::boxed::Box::pin($handler(event, ctx)) as $crate::support::HandlerFuture
    };
}
pub(crate) use durable;

/// The input was not the shape the requirement's `Input` has: a typed failure instead of a panic.
#[derive(Debug, thiserror::Error)]
#[error("unexpected input: expected {expected}, got {got}")]
pub struct UnexpectedInput {
    /// What the handler needs.
    pub expected: &'static str,
    /// The JSON it received.
    pub got: String,
}

/// The error a handler raises on purpose where a requirement says the code "throws" or "fails".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IntentionalFailure(pub String);

/// The error the retry-filter requirements (1-15, 1-16) name: the type the retry strategy looks for.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransientError(pub String);

/// An [`IntentionalFailure`] boxed with its type name as the recorded `ErrorType` (the SDK cannot recover a
/// boxed error's type name by itself).
pub fn fail(message: impl Into<String>) -> BoxError {
    Box::new(TypedError::new(IntentionalFailure(message.into())))
}

/// A [`TransientError`] boxed with its type name as the recorded `ErrorType`.
pub fn transient(message: impl Into<String>) -> BoxError {
    Box::new(TypedError::new(TransientError(message.into())))
}

/// Whether `error`, or anything in its source chain, is a [`TransientError`].
pub fn is_transient(error: &StepError) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<TransientError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// The retry strategy of a step that must not be retried ("no retry", `maxAttempts: 1`).
pub fn no_retry(_error: &StepError, _attempt: u32) -> RetryDecision {
    RetryDecision::Stop
}

/// Retries after one second until `max_attempts` attempts have failed.
pub fn retry_every_second(max_attempts: u32) -> impl Fn(&StepError, u32) -> RetryDecision + Send + Sync + 'static {
    move |_error, attempt| {
        if attempt >= max_attempts {
            RetryDecision::Stop
        } else {
            RetryDecision::Retry { delay: Duration::from_secs(1) }
        }
    }
}

/// The input as text: a JSON string's value, anything else as its JSON text (so `null` still greets someone).
pub fn text(event: &Value) -> String {
    match event {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The input's field `key`, which must be a string.
pub fn field_str(event: &Value, key: &'static str) -> Result<String, BoxError> {
    event.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
        Box::new(UnexpectedInput { expected: "an object with a string field", got: event.to_string() }) as BoxError
    })
}

/// The input as an integer.
pub fn integer(event: &Value) -> Result<i64, BoxError> {
    event.as_i64().ok_or_else(|| Box::new(UnexpectedInput { expected: "an integer", got: event.to_string() }) as _)
}

/// The input as an array.
pub fn array(event: &Value) -> Result<Vec<Value>, BoxError> {
    event
        .as_array()
        .cloned()
        .ok_or_else(|| Box::new(UnexpectedInput { expected: "an array", got: event.to_string() }) as _)
}

/// The input as an array of strings.
pub fn strings(event: &Value) -> Result<Vec<String>, BoxError> {
    let items = array(event)?;
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Box::new(UnexpectedInput { expected: "an array of strings", got: event.to_string() }) as _)
}

/// `Hello, <name>!`: the greeting several requirements return.
pub fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Ends the process the way a crashing Lambda function does (the requirements say "process.exit"), after
/// flushing what it logged: the service records the invocation as `Runtime.ExitError` and invokes again.
///
/// Generic over what the caller's code path would have produced, so it can stand where a value is expected.
pub fn crash_process<T>() -> T {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(1)
}

/// Serializes an output into the handler's JSON result.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, BoxError> {
    serde_json::to_value(value).map_err(Into::into)
}
