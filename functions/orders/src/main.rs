//! Lambda entry point of the order workflow: logging, its settings (read before the runtime starts, so a bad one
//! fails the process at init naming the variable), the orders table's client (made once per process), the durable
//! runtime loop.

use aws_durable_execution_sdk as durable;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = orders::Settings::from_env(|name| std::env::var(name).ok())?;
    let table = match &settings.table {
        Some(name) => {
            let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            Some(orders::OrderTable::new(aws_sdk_dynamodb::Client::new(&config), name))
        }
        None => None,
    };
    durable::run(move |order: orders::Order, ctx: durable::DurableContext| {
        orders::handle(order, ctx, settings.clone(), table.clone())
    })
    .await
}
