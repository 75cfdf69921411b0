//! The conformance functions' Lambda entry point: reads `CONFORMANCE_HANDLER`, installs the flat-JSON logger,
//! and runs the handler it names, durable through the SDK, plain through `lambda_runtime`.

use aws_durable_execution_sdk as durable;
use conformance::registry::{HANDLER_ENV, Handler, UnknownHandler, handler};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let id = std::env::var(HANDLER_ENV).unwrap_or_default();
    conformance::logging::init(conformance::plugin::PROBED.contains(&id.as_str()));
    let Some(selected) = handler(&id) else {
        let error = UnknownHandler { id };
        tracing::error!("{error}");
        // Failing at init makes every invocation report the reason.
        return Err(error.to_string().into());
    };
    match selected {
        Handler::Durable(run) => durable::run(move |event: Value, ctx: durable::DurableContext| run(event, ctx)).await,
        Handler::Plain(run) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
                run(event.payload).await.map_err(|error| conformance::targets::diagnostic(&error))
            }))
            .await
        }
    }
}
