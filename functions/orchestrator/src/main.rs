//! Lambda entry point of the orchestrator: logging set-up, start-up
//! configuration and the durable runtime loop.
//!
//! All behaviour lives in [`orchestrator::workflow`]; this file only wires
//! it to the durable SDK. `PROCESSOR_FUNCTION_NAME` is read before the
//! runtime starts, so a missing value fails the process at init with a
//! message naming the variable.

use aws_durable_execution_sdk as durable;
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Text logs by default; JSON when the function's log format is JSON
    // (AWS_LAMBDA_LOG_FORMAT=JSON), at AWS_LAMBDA_LOG_LEVEL or RUST_LOG.
    lambda_runtime::tracing::init_default_subscriber();

    let processor_function = match orchestrator::config::processor_function(|name| std::env::var(name).ok()) {
        Ok(name) => name,
        Err(error) => {
            tracing::error!(error_type = error.error_type(), "{error}");
            // A plain message, so the process's exit report reads as one line.
            return Err(error.to_string().into());
        }
    };

    durable::run(move |event: Box<RawValue>, ctx: durable::DurableContext| {
        orchestrator::workflow::handle(event, ctx, processor_function.clone())
    })
    .await
}
