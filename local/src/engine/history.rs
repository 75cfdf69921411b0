//! History events: what each transition records, in the shapes of the service's `GetDurableExecutionHistory`
//! (`<EventType>Details` with `Result`/`Input` as `{Payload}`, errors as `{Payload: ErrorObject}`).

use serde_json::{Map, Value, json};

use super::model::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, Event, EventType, ExecutionDetails, Operation,
    OperationStatus, OperationType, StepDetails, WaitDetails,
};

/// Builds one event of `op` (id, name, parent and sub type come from the operation).
pub fn of_operation(event_type: EventType, op: &Operation, details: Map<String, Value>, now: i64) -> Event {
    Event {
        event_type,
        sub_type: op.sub_type.clone(),
        event_id: 0,
        id: Some(op.id.clone()),
        name: op.name.clone(),
        event_timestamp: now,
        parent_id: op.parent_id.clone(),
        details: wrap(event_type, details),
    }
}

/// Builds an execution-level event: `ExecutionStarted`, `ExecutionSucceeded`, ... carry the EXECUTION operation's
/// id and the execution's name (as AWS's emulator records them); `InvocationCompleted` carries neither.
pub fn of_execution(
    event_type: EventType,
    identity: Option<(&str, &str)>,
    details: Map<String, Value>,
    now: i64,
) -> Event {
    Event {
        event_type,
        sub_type: None,
        event_id: 0,
        id: identity.map(|(id, _)| id.to_owned()),
        name: identity.map(|(_, name)| name.to_owned()),
        event_timestamp: now,
        parent_id: None,
        details: wrap(event_type, details),
    }
}

fn wrap(event_type: EventType, details: Map<String, Value>) -> Map<String, Value> {
    let mut outer = Map::new();
    outer.insert(event_type.details_key(), Value::Object(details));
    outer
}

/// `{}`.
pub fn empty() -> Map<String, Value> {
    Map::new()
}

/// `{"Result": {"Payload": ...}}` (an absent result records no payload).
pub fn result(payload: Option<&str>) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("Result".into(), payload_object(payload));
    map
}

/// `{"Error": {"Payload": ErrorObject}}`.
pub fn error(error: &ErrorObject) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("Error".into(), error_object(error));
    map
}

/// `{"Payload": ..., "Truncated": false}` (payloads are never cut locally).
pub fn payload_object(payload: Option<&str>) -> Value {
    match payload {
        Some(p) => json!({ "Payload": p, "Truncated": false }),
        None => json!({ "Truncated": false }),
    }
}

/// `{"Payload": ErrorObject, "Truncated": false}`.
pub fn error_object(error: &ErrorObject) -> Value {
    json!({ "Payload": error, "Truncated": false })
}

/// `RetryDetails`.
pub fn retry_details(current_attempt: i64, next_delay_seconds: Option<i64>) -> Value {
    match next_delay_seconds {
        Some(delay) => json!({ "CurrentAttempt": current_attempt, "NextAttemptDelaySeconds": delay }),
        None => json!({ "CurrentAttempt": current_attempt }),
    }
}

/// Removes every `Payload` member (inputs, results and error payloads): what `IncludeExecutionData=false` hides.
pub fn strip_payloads(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("Payload");
            for child in map.values_mut() {
                strip_payloads(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_payloads),
        _ => {}
    }
}

/// The operations a history records, rebuilt from its events, in the order they first appear: what a replay of an
/// execution recorded elsewhere (AWS's `GetDurableExecutionHistory`, read with its execution data) gives the handler
/// as its checkpointed state. Timestamps are epoch milliseconds, as the events carry them here.
pub fn operations(events: &[Event]) -> Vec<Operation> {
    let mut operations: Vec<Operation> = Vec::new();
    for event in events {
        let Some(id) = &event.id else { continue };
        let Some((operation_type, status)) = transition(event.event_type) else { continue };
        let details = event.details.get(&event.event_type.details_key()).cloned().unwrap_or(Value::Null);
        let index = operations.iter().position(|op| &op.id == id).unwrap_or_else(|| {
            operations.push(Operation {
                id: id.clone(),
                parent_id: event.parent_id.clone(),
                // Execution events carry the execution's name, which its operation does not.
                name: if operation_type == OperationType::Execution { None } else { event.name.clone() },
                operation_type,
                sub_type: event.sub_type.clone(),
                start_timestamp: event.event_timestamp,
                end_timestamp: None,
                status: OperationStatus::Started,
                execution_details: None,
                context_details: None,
                step_details: None,
                wait_details: None,
                callback_details: None,
                chained_invoke_details: None,
            });
            operations.len() - 1
        });
        let Some(op) = operations.get_mut(index) else { continue };
        let payload = |key: &str| details[key]["Payload"].as_str().map(str::to_owned);
        let error = || serde_json::from_value::<ErrorObject>(details["Error"]["Payload"].clone()).ok();
        let retry_delay = details["RetryDetails"]["NextAttemptDelaySeconds"].as_i64();
        let status = match (operation_type, status, retry_delay) {
            // A failed attempt with another to come, or a wait-for-condition's state carried forward.
            (OperationType::Step, _, Some(delay)) => {
                let step = op.step_details.get_or_insert_with(StepDetails::default);
                step.attempt += 1;
                step.next_attempt_timestamp = Some(event.event_timestamp.saturating_add(delay.saturating_mul(1000)));
                step.error = error();
                if let Some(result) = payload("Result") {
                    step.result = Some(result);
                }
                OperationStatus::Pending
            }
            (_, status, _) => status,
        };
        op.status = status;
        if status.is_terminal() {
            op.end_timestamp = Some(event.event_timestamp);
        }
        match operation_type {
            OperationType::Execution => {
                if let Some(input) = payload("Input") {
                    op.execution_details = Some(ExecutionDetails { input_payload: Some(input) });
                }
            }
            OperationType::Step if status != OperationStatus::Pending => {
                let step = op.step_details.get_or_insert_with(StepDetails::default);
                step.next_attempt_timestamp = None;
                if let Some(result) = payload("Result") {
                    step.result = Some(result);
                }
                // A success clears the failed attempts' error; a final failure records its own.
                if status != OperationStatus::Started {
                    step.error = error();
                }
            }
            OperationType::Wait => {
                if let Some(end) = details["ScheduledEndTimestamp"].as_i64() {
                    op.wait_details = Some(WaitDetails { scheduled_end_timestamp: Some(end) });
                }
            }
            OperationType::Callback => {
                let callback = op.callback_details.get_or_insert_with(CallbackDetails::default);
                if let Some(id) = details["CallbackId"].as_str() {
                    callback.callback_id = Some(id.to_owned());
                }
                callback.result = payload("Result").or_else(|| callback.result.take());
                callback.error = error().or_else(|| callback.error.take());
            }
            OperationType::ChainedInvoke if status != OperationStatus::Started => {
                op.chained_invoke_details = Some(ChainedInvokeDetails { result: payload("Result"), error: error() });
            }
            OperationType::Context => {
                let context = op.context_details.get_or_insert_with(ContextDetails::default);
                if status != OperationStatus::Started {
                    context.result = payload("Result");
                    context.error = error();
                }
            }
            OperationType::Step | OperationType::ChainedInvoke => {}
        }
    }
    operations
}

/// The operation type an event belongs to and the status it leaves it in (`None`: not an operation's event).
fn transition(event_type: EventType) -> Option<(OperationType, OperationStatus)> {
    use EventType as E;
    use OperationStatus as S;
    use OperationType as T;
    Some(match event_type {
        E::ExecutionStarted => (T::Execution, S::Started),
        E::ExecutionSucceeded => (T::Execution, S::Succeeded),
        E::ExecutionFailed => (T::Execution, S::Failed),
        E::ExecutionTimedOut => (T::Execution, S::TimedOut),
        E::ExecutionStopped => (T::Execution, S::Stopped),
        E::ContextStarted => (T::Context, S::Started),
        E::ContextSucceeded => (T::Context, S::Succeeded),
        E::ContextFailed => (T::Context, S::Failed),
        E::WaitStarted => (T::Wait, S::Started),
        E::WaitSucceeded => (T::Wait, S::Succeeded),
        E::WaitCancelled => (T::Wait, S::Cancelled),
        E::StepStarted => (T::Step, S::Started),
        E::StepSucceeded => (T::Step, S::Succeeded),
        E::StepFailed => (T::Step, S::Failed),
        E::ChainedInvokeStarted => (T::ChainedInvoke, S::Started),
        E::ChainedInvokeSucceeded => (T::ChainedInvoke, S::Succeeded),
        E::ChainedInvokeFailed => (T::ChainedInvoke, S::Failed),
        E::ChainedInvokeTimedOut => (T::ChainedInvoke, S::TimedOut),
        E::ChainedInvokeStopped => (T::ChainedInvoke, S::Stopped),
        E::CallbackStarted => (T::Callback, S::Started),
        E::CallbackSucceeded => (T::Callback, S::Succeeded),
        E::CallbackFailed => (T::Callback, S::Failed),
        E::CallbackTimedOut => (T::Callback, S::TimedOut),
        E::InvocationCompleted => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::model::{OperationStatus, OperationType};

    #[test]
    fn events_carry_their_details_under_the_type_key() {
        let op = Operation {
            id: "abc".into(),
            parent_id: Some("p".into()),
            name: Some("greet".into()),
            operation_type: OperationType::Step,
            sub_type: Some("Step".into()),
            start_timestamp: 5,
            end_timestamp: None,
            status: OperationStatus::Started,
            execution_details: None,
            context_details: None,
            step_details: None,
            wait_details: None,
            callback_details: None,
            chained_invoke_details: None,
        };
        let event = of_operation(EventType::StepSucceeded, &op, result(Some("\"hi\"")), 9);
        let value = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(value["StepSucceededDetails"]["Result"]["Payload"], "\"hi\"");
        assert_eq!(value["EventType"], "StepSucceeded");
        assert_eq!(value["ParentId"], "p");
        assert_eq!(value["SubType"], "Step");
        let mut stripped = value.clone();
        strip_payloads(&mut stripped);
        assert_eq!(stripped["StepSucceededDetails"]["Result"], json!({"Truncated": false}));
    }
}
