//! Carries out the engine's actions: runs handler invocations with their envelope, invokes chained targets, arms
//! alarms and answers callers waiting for an execution; each result goes back to the engine as its next command.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use super::Service;
use crate::engine::model::{ErrorObject, HandlerOutput};
use crate::engine::{Action, Envelope, InvocationResult, TargetOutcome};
use crate::runtime::FunctionResponse;

impl Service {
    /// Carries out `actions`; what runs long (function invocations) runs in tasks of its own.
    pub fn execute(self: &Arc<Self>, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::InvokeHandler { execution, invocation } => {
                    let service = self.clone();
                    self.in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        let _busy = super::Busy(&service.in_flight);
                        service.run_handler(&execution, invocation).await;
                    });
                }
                Action::InvokeTarget { execution, operation, function_name, qualifier, payload, tenant_id: _ } => {
                    let service = self.clone();
                    self.in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        let _busy = super::Busy(&service.in_flight);
                        #[cfg(feature = "test-hooks")]
                        let fault = service.faults.on_chained_invoke(&function_name);
                        #[cfg(not(feature = "test-hooks"))]
                        let fault: Option<std::convert::Infallible> = None;
                        let outcome = match fault {
                            #[cfg(feature = "test-hooks")]
                            Some(super::faults::InvokeFault::Fail) => TargetOutcome::Failed(ErrorObject::new(
                                "Fault.InjectedFailure",
                                format!("the test failed this chained invoke of {function_name}"),
                            )),
                            #[cfg(feature = "test-hooks")]
                            Some(super::faults::InvokeFault::Cut) => {
                                let _ = service.run_target(&function_name, &qualifier, payload).await;
                                tracing::warn!(%execution, %operation, "a fault dropped this chained invoke's answer");
                                return;
                            }
                            _ => service.run_target(&function_name, &qualifier, payload).await,
                        };
                        let next = service.engine().target_ended(&execution, &operation, outcome);
                        service.after(next, &execution);
                    });
                }
                Action::ArmTimer { execution, timer, at_ms } => {
                    let _ = self.timers.send((at_ms, execution, timer));
                }
                Action::Ended { execution } => self.wake(&execution),
            }
        }
    }

    /// Carries out the actions of an engine command, or logs why there are none.
    fn after(self: &Arc<Self>, result: Result<Vec<Action>, crate::engine::EngineError>, execution: &str) {
        match result {
            Ok(actions) => self.execute(actions),
            Err(e) => tracing::error!(%execution, error = %e, "the engine refused a completion"),
        }
    }

    async fn run_handler(self: &Arc<Self>, arn: &str, invocation: u64) {
        let envelope = match self.engine().envelope(arn, invocation) {
            Ok(Some(envelope)) => envelope,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(execution = %arn, error = %e, "cannot read the execution to invoke its handler");
                return;
            }
        };
        let record = match self.engine().execution(arn) {
            Ok(record) => record,
            Err(e) => {
                tracing::error!(execution = %arn, error = %e, "cannot read the execution to invoke its handler");
                return;
            }
        };
        let deployment = self.deployment();
        let result = match deployment.resolve(&record.function_name, Some(&record.qualifier)) {
            None => InvocationResult::Failed(ErrorObject::new(
                "ResourceNotFoundException",
                format!(
                    "Function not found: {}:{} (the stack that deployed it was removed)",
                    record.function_arn, record.qualifier
                ),
            )),
            Some(target) => {
                let body = Bytes::from(envelope_json(&envelope).to_string());
                let spec = self.spec(&deployment, &target);
                self.count(&spec.function);
                let pool = self.pools.pool(spec);
                #[cfg(feature = "test-hooks")]
                let kill_after_delivery = self.faults.on_delivery(&record.function_name, &envelope);
                #[cfg(not(feature = "test-hooks"))]
                let kill_after_delivery = false;
                let outcome = pool.invoke(&envelope.request_id, body, kill_after_delivery).await;
                handler_result(outcome)
            }
        };
        let next = self.engine().invocation_ended(arn, invocation, &result);
        self.after(next, arn);
    }

    /// Runs a plain function for a chained invoke, as a `RequestResponse` invoke would.
    async fn run_target(self: &Arc<Self>, function: &str, qualifier: &str, payload: Option<String>) -> TargetOutcome {
        let payload = Bytes::from(payload.unwrap_or_else(|| "{}".to_owned()));
        match self.invoke_function(function, Some(qualifier), payload).await {
            None => TargetOutcome::Failed(ErrorObject::new(
                "ResourceNotFoundException",
                format!("Function not found: {function}:{qualifier}"),
            )),
            Some(FunctionResponse::Success(body)) => {
                TargetOutcome::Succeeded(Some(String::from_utf8_lossy(&body).into_owned()))
            }
            Some(FunctionResponse::FunctionError(body)) => {
                let error = function_error(&body);
                if error.error_type.as_deref() == Some("Sandbox.Timedout") {
                    TargetOutcome::TimedOut(error)
                } else {
                    TargetOutcome::Failed(error)
                }
            }
        }
    }
}

/// The envelope a durable handler receives, timestamps in epoch milliseconds.
pub(super) fn envelope_json(envelope: &Envelope) -> Value {
    let operations = serde_json::to_value(&envelope.operations).unwrap_or_else(|_| json!([]));
    let mut state = json!({ "Operations": operations });
    if let (Some(marker), Some(map)) = (&envelope.next_marker, state.as_object_mut()) {
        map.insert("NextMarker".into(), json!(marker));
    }
    json!({
        "DurableExecutionArn": envelope.execution,
        "CheckpointToken": envelope.token,
        "InitialExecutionState": state,
    })
}

/// What a durable handler's invocation amounts to.
pub(super) fn handler_result(outcome: FunctionResponse) -> InvocationResult {
    match outcome {
        FunctionResponse::Success(body) => match serde_json::from_slice::<HandlerOutput>(&body) {
            Ok(output) => InvocationResult::Output(output),
            Err(e) => InvocationResult::Failed(ErrorObject::new(
                "Runtime.InvalidOutput",
                format!(
                    "the durable handler answered with something other than a durable output envelope ({e}): {}",
                    String::from_utf8_lossy(body.get(..200.min(body.len())).unwrap_or_default())
                ),
            )),
        },
        FunctionResponse::FunctionError(body) => InvocationResult::Failed(function_error(&body)),
    }
}

/// `{"errorType", "errorMessage", "stackTrace"}` as an [`ErrorObject`].
pub(super) fn function_error(body: &[u8]) -> ErrorObject {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    ErrorObject {
        error_type: text("errorType").or_else(|| Some("Unhandled".to_owned())),
        error_message: text("errorMessage").or_else(|| Some(String::from_utf8_lossy(body).into_owned())),
        error_data: text("errorData"),
        stack_trace: value
            .get("stackTrace")
            .and_then(Value::as_array)
            .map(|frames| frames.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
    }
}
