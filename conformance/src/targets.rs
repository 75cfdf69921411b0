//! The plain (non-durable) functions the invoke suite calls, and the environment variables through which the
//! durable handlers learn their names.
//!
//! They run from the same binary as the durable handlers, through `lambda_runtime` directly: a chained invoke
//! of a plain function sends the payload as the event and records the reply (or the function error) as the
//! operation's result.

use aws_durable_execution_sdk::BoxError;
use serde_json::{Value, json};

use crate::support::{HandlerFuture, PlainHandler, fail};

/// Handler id of the target that returns its input.
pub const ECHO: &str = "target-echo";
/// Handler id of the target that always fails.
pub const FAILING: &str = "target-failing";
/// Handler id of the target that reports the size of its input.
pub const MEASURE: &str = "target-measure";

/// Environment variable holding the name of the echo target.
pub const ECHO_ENV: &str = "ECHO_FUNCTION_NAME";
/// Environment variable holding the name of the failing target.
pub const FAILING_ENV: &str = "FAILING_FUNCTION_NAME";
/// Environment variable holding the name of the measuring target.
pub const MEASURE_ENV: &str = "MEASURE_FUNCTION_NAME";
/// Environment variable holding the name of the tenant-isolated echo target (5-8).
pub const TENANT_ECHO_ENV: &str = "TENANT_ECHO_FUNCTION_NAME";

/// The targets by handler id.
pub const HANDLERS: &[(&str, PlainHandler)] = &[
    (ECHO, |event| Box::pin(std::future::ready(echo(event))) as HandlerFuture),
    (FAILING, |event| Box::pin(std::future::ready(failing(event))) as HandlerFuture),
    (MEASURE, |event| Box::pin(std::future::ready(measure(&event))) as HandlerFuture),
];

/// Returns its input unchanged.
pub fn echo(event: Value) -> Result<Value, BoxError> {
    Ok(event)
}

/// Always fails, so the caller's chained invoke records a failure.
pub fn failing(_event: Value) -> Result<Value, BoxError> {
    Err(fail("the target function failed on purpose"))
}

/// Processes a (large) input by measuring it: `{"bytes": <length of its JSON text>}`.
pub fn measure(event: &Value) -> Result<Value, BoxError> {
    Ok(json!({ "bytes": event.to_string().len() }))
}

/// The function error Lambda reports for a failed target: `errorType` is the error's recorded type (what
/// [`fail`] tags it with) instead of `lambda_runtime`'s default, the Rust type name of a boxed error.
pub fn diagnostic(error: &BoxError) -> lambda_runtime::Diagnostic {
    let error_type = error
        .downcast_ref::<aws_durable_execution_sdk::TypedError>()
        .map_or_else(|| "Error".to_owned(), |typed| typed.error_type().to_owned());
    let error_message = match error.downcast_ref::<aws_durable_execution_sdk::TypedError>() {
        Some(typed) => typed.inner().to_string(),
        None => error.to_string(),
    };
    lambda_runtime::Diagnostic { error_type, error_message }
}

/// Reads the name of a target from its environment variable at the moment the handler needs it, so a missing
/// variable fails that execution with a message naming it.
pub fn function_name(variable: &'static str) -> Result<String, BoxError> {
    std::env::var(variable)
        .ok()
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| Box::new(MissingTarget { variable }) as BoxError)
}

/// A target function's name is not configured.
#[derive(Debug, thiserror::Error)]
#[error("{variable} is not set: the stack must pass the target function's name to this handler")]
pub struct MissingTarget {
    /// The variable.
    pub variable: &'static str,
}
