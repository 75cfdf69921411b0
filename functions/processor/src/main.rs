//! Lambda entry point of the processor: logging set-up and the runtime loop.
//!
//! All behaviour lives in [`processor::handler`]; this file only wires it to
//! `lambda_runtime`. The event is received as raw JSON text so integers keep
//! their exact value, and the result is sent back as the exact bytes the
//! handler produced.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Text logs by default; JSON when the function's log format is JSON
    // (AWS_LAMBDA_LOG_FORMAT=JSON), at AWS_LAMBDA_LOG_LEVEL or RUST_LOG.
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Box<RawValue>>| async move {
        processor::handler::handle(&event.payload)
    }))
    .await
}
