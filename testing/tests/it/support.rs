//! The stacks under test.

use constructs::lambda::RustFunction;
use constructs::reference::Reference;
use constructs::resources::lambda::DurableConfig;
use constructs::{App, Stack};
use durable_testing::TestApp;

/// A stack of the order workflow (`Workflow`, 30 days to run) and the function it invokes to fulfil (`Fulfil`, the
/// pattern's processor), named `name`.
pub fn orders_stack(name: &str) -> Stack {
    let mut stack = Stack::new(&App::new(), name).unwrap();
    let fulfil = stack.construct("Fulfil", RustFunction::new("processor").timeout_seconds(30)).unwrap();
    let workflow = stack
        .construct(
            "Workflow",
            RustFunction::new("orders")
                .timeout_seconds(60)
                .durable(DurableConfig::new(30 * 86_400, 7))
                .env(orders::FULFIL_FUNCTION_ENV, fulfil.function().ref_()),
        )
        .unwrap();
    fulfil.grant_invoke(&mut stack, &workflow).unwrap();
    stack
}

/// The order workflow's app, started.
pub async fn orders_app(name: &str) -> TestApp {
    TestApp::builder().stack(orders_stack(name)).start().await.unwrap()
}

/// An order of `quantities` whose reservation fails `failures` times, held `hold_days` days after fulfilment.
pub fn order(id: &str, quantities: &[u32], failures: u32, hold_days: u64) -> orders::Order {
    orders::Order { order_id: id.into(), quantities: quantities.to_vec(), hold_days, reserve_failures: failures }
}
