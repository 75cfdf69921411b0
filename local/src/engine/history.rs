//! History events: what each transition records, in the shapes of the service's `GetDurableExecutionHistory`
//! (`<EventType>Details` with `Result`/`Input` as `{Payload}`, errors as `{Payload: ErrorObject}`).

use serde_json::{Map, Value, json};

use super::model::{ErrorObject, Event, EventType, Operation};

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
