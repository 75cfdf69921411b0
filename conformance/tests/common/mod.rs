//! Helpers shared by the handler tests: run a handler by requirement id under the SDK's `LocalRunner`, and
//! summarize the operations it recorded.

#![allow(dead_code, reason = "each test binary uses a different subset of the helpers")]

use aws_durable_execution_sdk::test_util::{LocalRunner, TestResult};
use conformance::registry::{Handler, handler};
use serde_json::Value;

/// Runs the durable handler `id` on `input` with `runner`.
pub async fn run_with(runner: LocalRunner, id: &str, input: Value) -> TestResult<Value> {
    let Some(Handler::Durable(handler)) = handler(id) else { panic!("{id} is not a durable handler") };
    runner.run(move |event: Value, ctx| handler(event, ctx), input).await
}

/// Runs the durable handler `id` on `input` with a default runner.
pub async fn run(id: &str, input: Value) -> TestResult<Value> {
    run_with(LocalRunner::new(), id, input).await
}

/// One recorded operation as `type/sub-type name status`, e.g. `Context/RunInChildContext outer Succeeded`
/// (`-` for no name).
pub fn summary(result: &TestResult<Value>) -> Vec<String> {
    result
        .operations()
        .iter()
        .map(|op| {
            format!("{}/{} {} {}", op.op_type(), op.sub_type().unwrap_or("-"), op.name().unwrap_or("-"), op.status())
        })
        .collect()
}

/// The execution's output, which must have succeeded.
pub fn output(result: &TestResult<Value>) -> Value {
    assert!(result.is_success(), "expected success, got {:?}: {:?}", result.error_type(), result.error_message());
    result.output().cloned().unwrap_or(Value::Null)
}

/// The recorded result (wire payload) of operation `index`.
pub fn payload(result: &TestResult<Value>, index: usize) -> Option<String> {
    result.operations().get(index).and_then(|op| op.result()).map(str::to_owned)
}
