//! The orchestrator through the SDK's production entry point
//! (`durable::wrap`, the service function `durable::run` registers), fed the
//! invocation envelopes the durable execution service sends, with the
//! checkpoint API stubbed at the AWS SDK client.
//!
//! This covers what `LocalRunner` cannot: the chained invoke's START carries
//! the processor's function name and the exact prepared payload, and the
//! invocation that replays a completed invoke returns the pattern's output
//! byte for byte, without re-running the step. The processor result fed back
//! is what the real processor handler returns for the recorded payload.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

mod common;

use std::sync::{Arc, Mutex};

use aws_durable_execution_sdk::{self as durable, InvocationPayload, LambdaClient, Options};
use aws_sdk_lambda::operation::checkpoint_durable_execution::CheckpointDurableExecutionOutput;
use aws_sdk_lambda::types::{OperationAction, OperationType, OperationUpdate};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use common::{Logs, PROCESSOR, SEED_OUTPUT, SEED_PAYLOAD, handler};
use serde_json::json;
use serde_json::value::RawValue;

const EXECUTION_ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:orchestrator:$LATEST/durable-execution/seed/0001";

/// A durable-execution API stub that accepts every checkpoint and records
/// the operation updates it was sent.
struct CheckpointApi {
    updates: Arc<Mutex<Vec<OperationUpdate>>>,
    rule: Rule,
    client: LambdaClient,
}

impl CheckpointApi {
    fn new() -> Self {
        let updates = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&updates);
        let rule = mock!(aws_sdk_lambda::Client::checkpoint_durable_execution).then_compute_output(move |request| {
            let mut seen = seen.lock().unwrap();
            seen.extend(request.updates().iter().cloned());
            CheckpointDurableExecutionOutput::builder().checkpoint_token(format!("token-{}", seen.len())).build()
        });
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        Self { updates, rule, client }
    }

    fn updates(&self) -> Vec<OperationUpdate> {
        self.updates.lock().unwrap().clone()
    }

    /// Runs one invocation of the production service function.
    async fn invoke(&self, envelope: serde_json::Value) -> serde_json::Value {
        let options = Options::builder().lambda_client(self.client.clone()).build().unwrap();
        let service = durable::wrap(handler, options);
        let payload: InvocationPayload = serde_json::from_value(envelope).unwrap();
        let response =
            service(lambda_runtime::LambdaEvent::new(payload, lambda_runtime::Context::default())).await.unwrap();
        serde_json::to_value(&response).unwrap()
    }
}

/// The envelope of one invocation: the execution input plus the recorded
/// operations (service wire format).
fn envelope(input: &str, token: &str, history: &[serde_json::Value]) -> serde_json::Value {
    let mut operations = vec![json!({
        "Id": "execution",
        "Type": "EXECUTION",
        "Status": "STARTED",
        "ExecutionDetails": {"InputPayload": input},
    })];
    operations.extend_from_slice(history);
    json!({
        "DurableExecutionArn": EXECUTION_ARN,
        "CheckpointToken": token,
        "InitialExecutionState": {"Operations": operations},
    })
}

fn find<'a>(updates: &'a [OperationUpdate], kind: &OperationType, action: &OperationAction) -> &'a OperationUpdate {
    updates
        .iter()
        .find(|u| u.r#type() == kind && u.action() == action)
        .unwrap_or_else(|| panic!("no {kind:?} {action:?} update in {updates:#?}"))
}

/// The first invocation: runs the step, starts the invoke, suspends.
async fn first_invocation(input: &str) -> (serde_json::Value, Vec<OperationUpdate>) {
    let api = CheckpointApi::new();
    let response = api.invoke(envelope(input, "token-0", &[])).await;
    (response, api.updates())
}

#[tokio::test]
async fn invoke_start_carries_the_function_name_and_the_prepared_payload() {
    let _logs = Logs::capture();
    let (response, updates) = first_invocation(r#"{"values": [10, 20, 30, 40, 50]}"#).await;
    assert_eq!(response, json!({"Status": "PENDING"}), "the execution waits for the processor");

    let step = find(&updates, &OperationType::Step, &OperationAction::Succeed);
    assert_eq!(step.name(), Some("prepare_input"));
    assert_eq!(step.payload(), Some(SEED_PAYLOAD));

    let invoke = find(&updates, &OperationType::ChainedInvoke, &OperationAction::Start);
    assert_eq!(invoke.name(), Some("invoke_processor"));
    assert_eq!(
        invoke.chained_invoke_options().map(aws_sdk_lambda::types::ChainedInvokeOptions::function_name),
        Some(PROCESSOR)
    );
    assert_eq!(invoke.payload(), Some(SEED_PAYLOAD), "the step's result, byte for byte");

    let position = |u: &OperationUpdate| updates.iter().position(|x| x == u);
    assert!(position(step) < position(invoke), "the invoke starts after the step succeeded");
    assert_eq!(updates.last(), Some(invoke), "nothing is checkpointed after the invoke START");
}

#[tokio::test]
async fn replaying_the_completed_invoke_returns_the_pattern_output_byte_for_byte() {
    let _logs = Logs::capture();
    let input = r#"{"values": [10, 20, 30, 40, 50]}"#;
    let (_, updates) = first_invocation(input).await;
    let step = find(&updates, &OperationType::Step, &OperationAction::Succeed);
    let invoke = find(&updates, &OperationType::ChainedInvoke, &OperationAction::Start);

    // What the service does between the two invocations: run the processor
    // on the recorded payload and record its reply.
    let payload = RawValue::from_string(invoke.payload().unwrap().to_owned()).unwrap();
    let processor_output = processor::handler::handle(&payload).unwrap();
    let history = [
        json!({
            "Id": step.id(), "Type": "STEP", "SubType": step.sub_type(), "Name": step.name(),
            "Status": "SUCCEEDED", "StepDetails": {"Result": step.payload(), "Attempt": 1},
        }),
        json!({
            "Id": invoke.id(), "Type": "CHAINED_INVOKE", "SubType": invoke.sub_type(), "Name": invoke.name(),
            "Status": "SUCCEEDED", "ChainedInvokeDetails": {"Result": processor_output.get()},
        }),
    ];

    let logs = Logs::capture();
    let api = CheckpointApi::new();
    let response = api.invoke(envelope(input, "token-3", &history)).await;

    assert_eq!(response["Status"], "SUCCEEDED", "{response}");
    assert_eq!(response["Result"].as_str(), Some(SEED_OUTPUT));
    assert_eq!(api.rule.num_calls(), 0, "a full replay checkpoints nothing: the step did not run again");
    assert_eq!(logs.count("Preparing input values for processing"), 0);
    assert_eq!(logs.count("Starting durable orchestration"), 0);
    assert_eq!(logs.count("Processing complete"), 1);
}

#[tokio::test]
async fn a_failed_processor_fails_the_execution_with_its_error() {
    let _logs = Logs::capture();
    let input = r#"{"values": [1, 2]}"#;
    let (_, updates) = first_invocation(input).await;
    let step = find(&updates, &OperationType::Step, &OperationAction::Succeed);
    let invoke = find(&updates, &OperationType::ChainedInvoke, &OperationAction::Start);
    let history = [
        json!({
            "Id": step.id(), "Type": "STEP", "SubType": step.sub_type(), "Name": step.name(),
            "Status": "SUCCEEDED", "StepDetails": {"Result": step.payload(), "Attempt": 1},
        }),
        json!({
            "Id": invoke.id(), "Type": "CHAINED_INVOKE", "SubType": invoke.sub_type(), "Name": invoke.name(),
            "Status": "FAILED", "ChainedInvokeDetails": {"Error": {
                "ErrorType": "IntegerOverflow",
                "ErrorMessage": "the sum of the integer values exceeds the supported 128-bit range",
            }},
        }),
    ];
    let response = CheckpointApi::new().invoke(envelope(input, "token-3", &history)).await;

    assert_eq!(response["Status"], "FAILED", "{response}");
    assert_eq!(response["Error"]["ErrorType"], "IntegerOverflow", "{response}");
    let message = response["Error"]["ErrorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("exceeds the supported 128-bit range"), "{message}");
}

/// Hostile execution inputs through the production entry point: each one
/// fails the execution with a typed, short error, and nothing is invoked.
#[tokio::test]
async fn hostile_inputs_fail_typed_and_never_reach_the_processor() {
    let _logs = Logs::capture();
    let megabyte = "7".repeat(1 << 20);
    let many = format!(r#"{{"values": [{}]}}"#, vec!["1"; 100_000].join(", "));
    let cases: Vec<(String, &str, &str)> = vec![
        ("[1, 2]".into(), "InvalidEvent", "the event must be a JSON object, got an array ([1, 2])"),
        (r#""values""#.into(), "InvalidEvent", "got a string"),
        (r#"{"values": null}"#.into(), "InvalidValues", "got null"),
        (r#"{"values": "10,20"}"#.into(), "InvalidValues", "got a string (\"10,20\")"),
        (r#"{"values": {"a": 1}}"#.into(), "InvalidValues", "got an object"),
        (r#"{"values": [[1, 2], 3]}"#.into(), "InvalidValues", "\"values\"[0] must be a finite number, got an array"),
        (r#"{"values": [1, "2"]}"#.into(), "InvalidValues", "\"values\"[1] must be a finite number, got a string"),
        (r#"{"values": [true]}"#.into(), "InvalidValues", "got a boolean (true)"),
        (r#"{"values": ["NaN", "Infinity"]}"#.into(), "InvalidValues", "got a string (\"NaN\")"),
        (r#"{"values": [1e999]}"#.into(), "InvalidValues", "got a float (Infinity)"),
        (r#"{"values": [99999999999999999999999999999999999999999]}"#.into(), "UnreadableEvent", "128"),
        (format!(r#"{{"values": "{megabyte}"}}"#), "InvalidValues", "got a string (\"7777"),
        (format!(r#"{{"values": [1, "{megabyte}"]}}"#), "InvalidValues", "\"values\"[1] must be a finite number"),
        (many, "PayloadTooLarge", "for 100000 values would be 300044 bytes, over the 262144 bytes"),
    ];
    for (input, error_type, fragment) in &cases {
        let shown: String = input.chars().take(50).collect();
        let api = CheckpointApi::new();
        let response = api.invoke(envelope(input, "token-0", &[])).await;
        assert_eq!(response["Status"], "FAILED", "{shown}: {response}");
        assert_eq!(response["Error"]["ErrorType"], *error_type, "{shown}: {response}");
        let message = response["Error"]["ErrorMessage"].as_str().unwrap_or_default();
        assert!(message.contains(fragment), "{shown}: {message}");
        assert!(message.len() < 400, "{shown}: the error quotes at most a short prefix ({} bytes)", message.len());
        let updates = api.updates();
        assert!(
            !updates.iter().any(|u| u.r#type() == &OperationType::ChainedInvoke),
            "{shown}: the processor must not be invoked: {updates:#?}"
        );
        let checkpointed: usize = updates.iter().map(|u| u.payload().map_or(0, str::len)).sum();
        assert!(checkpointed < 1024, "{shown}: {checkpointed} bytes checkpointed for a rejected input");
    }
}

/// The largest inputs that fit go through: 80 000 values make a 240 KB
/// payload, checkpointed once as the step's result and once as the invoke's
/// input.
#[tokio::test]
async fn an_input_just_under_the_operation_limit_is_invoked() {
    let _logs = Logs::capture();
    let input = format!(r#"{{"values": [{}]}}"#, vec!["1"; 80_000].join(", "));
    let (response, updates) = first_invocation(&input).await;
    assert_eq!(response, json!({"Status": "PENDING"}));
    let invoke = find(&updates, &OperationType::ChainedInvoke, &OperationAction::Start);
    let payload = invoke.payload().unwrap();
    assert!(payload.starts_with(r#"{"values": [1, 1, "#) && payload.len() == 240_044, "{}", payload.len());
}
