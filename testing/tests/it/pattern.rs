//! The pattern (orchestrator and processor) through the library, and two apps side by side.

use durable_testing::{Status, TestApp};
use serde_json::json;

fn pattern() -> constructs::Stack {
    stacks::pattern::stack(&constructs::App::new()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orchestrator_invokes_the_processor_through_its_alias() {
    let app = TestApp::builder().stack(pattern()).start().await.unwrap();
    let orchestrator = app.function("Orchestrator").unwrap().qualifier(stacks::pattern::ALIAS_NAME);
    let execution = orchestrator.start(json!({"values": [1, 2, 3]})).await.unwrap();
    let response: serde_json::Value = execution.result().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["processing_result"]["sum"], json!(6), "{body}");
    assert_eq!(execution.history().await.unwrap().names(), ["prepare_input", "invoke_processor"]);
    // The processor is a plain function: invoked directly, it answers.
    let answer = app.function("Processor").unwrap().invoke(json!({"values": [4]})).await.unwrap();
    assert_eq!(answer["max"], json!(4));
    let refused = app.function("Orchestrator").unwrap().invoke(json!({})).await.unwrap_err().to_string();
    assert!(refused.contains("durable") && refused.contains("start"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_apps_share_no_service_port_state_or_clock() {
    let (a, b) = tokio::join!(TestApp::builder().stack(pattern()).start(), TestApp::builder().stack(pattern()).start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.endpoint(), b.endpoint());
    let execution = a.function("Orchestrator").unwrap().start(json!({"values": [1]})).await.unwrap();
    assert_eq!(execution.status().await.unwrap(), Status::Succeeded);
    let missing = b.execution(execution.arn()).status().await.unwrap_err().to_string();
    assert!(missing.contains("not found") || missing.contains("does not exist") || missing.contains("No"), "{missing}");
    let before = b.clock().now();
    a.clock().advance(std::time::Duration::from_hours(5)).await.unwrap();
    assert_eq!(b.clock().now(), before, "moving one app's clock moved the other's");
}
