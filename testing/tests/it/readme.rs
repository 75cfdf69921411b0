//! The README's test, verbatim: the block under "Test your workflows in Rust" must be this file's test.

use std::time::Duration;

use durable_testing::{OperationStatus, TestApp};
use orders::Outcome;
use serde_json::json;

fn orders_stack() -> constructs::Stack {
    crate::support::orders_stack("readme-orders")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_waits_for_approval_then_a_week() -> durable_testing::Result<()> {
    let app = TestApp::builder().stack(orders_stack()).start().await?;
    let order = app.function("Workflow")?.start(json!({"orderId": "o-1", "quantities": [2], "holdDays": 7})).await?;
    order.callback("approval").succeed(json!({"approved": true})).await?;
    assert_eq!(order.history().await?.get("fulfil").unwrap().status, OperationStatus::Succeeded);
    app.clock().advance(Duration::from_hours(7 * 24)).await?;
    assert_eq!(order.result::<Outcome>().await?.status, "closed");
    Ok(())
}

#[test]
fn the_readme_shows_the_test_above() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("## Test your workflows in Rust").nth(1).expect("the README lost its testing section");
    let block = section.split("```rust\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
    let source = include_str!("readme.rs");
    assert!(source.contains(block), "the README's test is not the one in testing/tests/it/readme.rs:\n{block}");
    assert!(block.lines().count() <= 11, "the README's test grew past ten lines");
}
