//! Lambda entry point of the order workflow: logging, the fulfilment function's name, the durable runtime loop.

use aws_durable_execution_sdk as durable;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let fulfil = match std::env::var(orders::FULFIL_FUNCTION_ENV) {
        Ok(name) if !name.trim().is_empty() => name,
        _ => {
            return Err(format!(
                "{} is not set: the order workflow needs the name or ARN of the function that fulfils an order",
                orders::FULFIL_FUNCTION_ENV
            )
            .into());
        }
    };
    durable::run(move |order: orders::Order, ctx: durable::DurableContext| orders::handle(order, ctx, fulfil.clone()))
        .await
}
