//! The durable execution API (2025-12-01): checkpoints and state for handlers; get, history, list and stop for
//! people and tools; callbacks for external systems. Timestamps go out as epoch seconds, as the service's
//! REST-JSON protocol has them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::{ApiState, query_pairs, query_param};
use crate::arn::parse_function_ref;
use crate::engine::model::{ErrorObject, ExecutionStatus, OperationUpdate};
use crate::engine::{CallbackCommand, ExecutionRecord, ListFilter, history};

/// The routes.
pub(crate) fn router() -> Router<ApiState> {
    Router::new()
        .route("/2025-12-01/durable-executions/{*rest}", get(execution_get).post(execution_post))
        .route("/2025-12-01/functions/{function}/durable-executions", get(list))
        .route("/2025-12-01/durable-execution-callbacks/{id}/{action}", post(callback))
}

const TIMESTAMP_KEYS: [&str; 6] = [
    "StartTimestamp",
    "EndTimestamp",
    "ScheduledEndTimestamp",
    "NextAttemptTimestamp",
    "EventTimestamp",
    "StopTimestamp",
];

/// Renders the engine's epoch milliseconds as the API's epoch seconds, everywhere in `value`.
pub(crate) fn to_epoch_seconds(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in TIMESTAMP_KEYS {
                if let Some(ms) = map.get(key).and_then(Value::as_i64) {
                    #[expect(clippy::cast_precision_loss, reason = "epoch milliseconds fit an f64 exactly until 2^53")]
                    map.insert(key.into(), json!(ms as f64 / 1000.0));
                }
            }
            map.values_mut().for_each(to_epoch_seconds);
        }
        Value::Array(items) => items.iter_mut().for_each(to_epoch_seconds),
        _ => {}
    }
}

fn answer(mut value: Value) -> Response {
    to_epoch_seconds(&mut value);
    (StatusCode::OK, [("content-type", "application/json")], value.to_string()).into_response()
}

fn flag(query: Option<&str>, name: &str, default: bool) -> Result<bool, ApiError> {
    match query_param(query, name).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ApiError::validation(name, other, "Member must be true or false")),
    }
}

fn max_items(query: Option<&str>, default: usize) -> Result<usize, ApiError> {
    match query_param(query, "MaxItems") {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(ApiError::validation("maxItems", &text, "Member must have value between 1 and 1000")),
        },
    }
}

/// The path after `/durable-executions/`: the ARN and what is asked of it.
fn split(rest: &str) -> (&str, &str) {
    for action in ["checkpoint", "state", "history", "stop"] {
        if let Some(arn) = rest.strip_suffix(action).and_then(|r| r.strip_suffix('/')) {
            return (arn, action);
        }
    }
    (rest, "")
}

async fn execution_get(
    State(state): State<ApiState>,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (arn, action) = split(&rest);
    let query = query.as_deref();
    match action {
        "" => get_execution(&state, arn, query),
        "history" => get_history(&state, arn, query),
        "state" => get_state(&state, arn, query),
        _ => Err(unknown(&Method::GET, &rest)),
    }
}

async fn execution_post(
    State(state): State<ApiState>,
    Path(rest): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (arn, action) = split(&rest);
    match action {
        "checkpoint" => checkpoint(&state, arn, &body),
        "stop" => stop(&state, arn, &body),
        _ => Err(unknown(&Method::POST, &rest)),
    }
}

fn unknown(method: &Method, rest: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "UnknownOperationException",
        format!("the local endpoint does not implement {method} /2025-12-01/durable-executions/{rest}"),
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CheckpointBody {
    checkpoint_token: Option<String>,
    #[serde(default)]
    updates: Vec<OperationUpdate>,
    client_token: Option<String>,
}

fn checkpoint(state: &ApiState, arn: &str, body: &[u8]) -> Result<Response, ApiError> {
    let request: CheckpointBody = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "ValidationException", format!("invalid checkpoint request: {e}"))
    })?;
    let token = request
        .checkpoint_token
        .ok_or_else(|| ApiError::validation("checkpointToken", "null", "Member must not be null"))?;
    let svc = &state.service;
    if let Some(replayed) = svc.replay_checkpoint(arn, &token, &request.updates) {
        return Ok(answer(json!({"CheckpointToken": replayed?, "NewExecutionState": {"Operations": []}})));
    }
    let deployment = svc.deployment();
    let (answer_value, actions) =
        svc.engine().checkpoint(arn, &token, &request.updates, request.client_token.as_deref(), &*deployment)?;
    svc.execute(actions);
    #[cfg(feature = "test-hooks")]
    if let Some(execution) = crate::arn::parse_execution_arn(arn)
        && svc.faults.on_checkpoint(execution.function_name, &request.updates)
            == Some(crate::service::faults::Kill::Process)
    {
        svc.kill_handler_of(arn);
    }
    let operations = serde_json::to_value(&answer_value.operations).map_err(|e| ApiError::service(e.to_string()))?;
    Ok(answer(json!({
        "CheckpointToken": answer_value.token,
        "NewExecutionState": {"Operations": operations},
    })))
}

fn get_state(state: &ApiState, arn: &str, query: Option<&str>) -> Result<Response, ApiError> {
    let token = query_param(query, "CheckpointToken")
        .ok_or_else(|| ApiError::validation("checkpointToken", "null", "Member must not be null"))?;
    let marker = query_param(query, "Marker");
    if let Some(operations) = state.service.replay_state(arn) {
        return Ok(answer(json!({"Operations": operations})));
    }
    let (operations, next) = state.service.engine().state(arn, &token, marker.as_deref(), max_items(query, 1000)?)?;
    let mut body = json!({"Operations": operations});
    if let (Some(next), Some(map)) = (next, body.as_object_mut()) {
        map.insert("NextMarker".into(), json!(next));
    }
    Ok(answer(body))
}

fn execution_json(record: &ExecutionRecord, include_data: bool, durable: Option<(u64, u64)>) -> Value {
    let qualified = format!("{}:{}", record.function_arn, record.qualifier);
    let mut body = Map::new();
    body.insert("DurableExecutionArn".into(), json!(record.arn));
    body.insert("DurableExecutionName".into(), json!(record.name));
    body.insert("FunctionArn".into(), json!(qualified));
    body.insert("Status".into(), json!(record.status.as_str()));
    body.insert("StartTimestamp".into(), json!(record.started_ms));
    if let Some(end) = record.ended_ms {
        body.insert("EndTimestamp".into(), json!(end));
    }
    body.insert("Version".into(), json!(record.qualifier));
    if include_data {
        body.insert("InputPayload".into(), json!(record.input));
        if let Some(result) = &record.result {
            body.insert("Result".into(), json!(result));
        }
    }
    if let Some(error) = &record.error {
        let error = if include_data { json!(error) } else { json!({"ErrorType": error.error_type}) };
        body.insert("Error".into(), error);
    }
    if let Some((timeout, retention)) = durable {
        body.insert("DurableConfig".into(), json!({"ExecutionTimeout": timeout, "RetentionPeriodInDays": retention}));
    }
    Value::Object(body)
}

fn get_execution(state: &ApiState, arn: &str, query: Option<&str>) -> Result<Response, ApiError> {
    let record = state.service.engine().execution(arn)?;
    let deployment = state.service.deployment();
    let durable = deployment
        .function(&record.function_name)
        .and_then(|f| f.durable)
        .map(|d| (d.execution_timeout, d.retention_days));
    Ok(answer(execution_json(&record, flag(query, "IncludeExecutionData", true)?, durable)))
}

fn get_history(state: &ApiState, arn: &str, query: Option<&str>) -> Result<Response, ApiError> {
    let include = flag(query, "IncludeExecutionData", true)?;
    let page = state.service.engine().history(
        arn,
        query_param(query, "Marker").as_deref(),
        max_items(query, 100)?,
        flag(query, "ReverseOrder", false)?,
    )?;
    let mut events = serde_json::to_value(&page.events).map_err(|e| ApiError::service(e.to_string()))?;
    if !include {
        history::strip_payloads(&mut events);
    }
    let mut body = json!({"Events": events});
    if let (Some(next), Some(map)) = (page.next_marker, body.as_object_mut()) {
        map.insert("NextMarker".into(), json!(next));
    }
    Ok(answer(body))
}

fn stop(state: &ApiState, arn: &str, body: &[u8]) -> Result<Response, ApiError> {
    let error: Option<ErrorObject> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(serde_json::from_slice(body).map_err(|e| ApiError::bad_content(format!("invalid error object: {e}")))?)
    };
    let (stopped, actions) = state.service.engine().stop(arn, error.as_ref())?;
    state.service.execute(actions);
    Ok(answer(json!({"StopTimestamp": stopped})))
}

/// `2026-11-27T10:00:00Z` (what the SDKs send) or epoch seconds, as epoch milliseconds.
fn parse_time(field: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(seconds) = text.parse::<f64>() {
        #[expect(clippy::cast_possible_truncation, reason = "a timestamp in range")]
        return Ok((seconds * 1000.0) as i64);
    }
    crate::time::parse_rfc3339_ms(text)
        .ok_or_else(|| ApiError::validation(field, text, "Member must be an ISO 8601 date-time or epoch seconds"))
}

async fn list(
    State(state): State<ApiState>,
    Path(identifier): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query = query.as_deref();
    let function = parse_function_ref(&identifier).ok_or_else(|| {
        ApiError::validation("functionName", &identifier, "Member must be a function name, ARN or partial ARN")
    })?;
    let deployment = state.service.deployment();
    if deployment.function(&function.name).is_none() {
        return Err(ApiError::not_found(format!("Function not found: {}", deployment.function_arn(&function.name))));
    }
    let mut statuses = Vec::new();
    for (key, value) in query_pairs(query) {
        if key == "Statuses" {
            statuses.push(ExecutionStatus::parse(&value).ok_or_else(|| {
                ApiError::validation(
                    "statuses",
                    &value,
                    "Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED]",
                )
            })?);
        }
    }
    let marker = query_param(query, "Marker");
    let filter = ListFilter {
        function_name: function.name.clone(),
        qualifier: query_param(query, "Qualifier").or(function.qualifier),
        name: query_param(query, "DurableExecutionName"),
        statuses,
        started_after: query_param(query, "StartedAfter").map(|t| parse_time("startedAfter", &t)).transpose()?,
        started_before: query_param(query, "StartedBefore").map(|t| parse_time("startedBefore", &t)).transpose()?,
        oldest_first: flag(query, "ReverseOrder", false)?,
        after_key: marker
            .map(|m| m.parse::<i64>().map_err(|_| ApiError::invalid(format!("Invalid marker: {m}"))))
            .transpose()?,
        limit: max_items(query, 1000)?,
    };
    let (records, next) = state.service.engine().list(&filter)?;
    let executions: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut summary = json!({
                "DurableExecutionArn": r.arn,
                "DurableExecutionName": r.name,
                "FunctionArn": format!("{}:{}", r.function_arn, r.qualifier),
                "Status": r.status.as_str(),
                "StartTimestamp": r.started_ms,
            });
            if let (Some(end), Some(map)) = (r.ended_ms, summary.as_object_mut()) {
                map.insert("EndTimestamp".into(), json!(end));
            }
            summary
        })
        .collect();
    let mut body = json!({"DurableExecutions": executions});
    if let (Some(next), Some(map)) = (next, body.as_object_mut()) {
        map.insert("NextMarker".into(), json!(next));
    }
    Ok(answer(body))
}

async fn callback(
    State(state): State<ApiState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let command = match action.as_str() {
        "succeed" => CallbackCommand::Succeed((!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned())),
        "fail" => {
            let error = if body.iter().all(u8::is_ascii_whitespace) {
                ErrorObject::default()
            } else {
                serde_json::from_slice(&body)
                    .map_err(|e| ApiError::bad_content(format!("invalid error object: {e}")))?
            };
            CallbackCommand::Fail(error)
        }
        "heartbeat" => CallbackCommand::Heartbeat,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("no callback action {other}: use succeed, fail or heartbeat"),
            ));
        }
    };
    let actions = state.service.engine().callback(&id, &command)?;
    state.service.execute(actions);
    Ok((StatusCode::OK, [("content-type", "application/json")], "{}").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_paths_split_into_arn_and_action() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST/durable-execution/n/i";
        assert_eq!(split(&format!("{arn}/checkpoint")), (arn, "checkpoint"));
        assert_eq!(split(&format!("{arn}/history")), (arn, "history"));
        assert_eq!(split(arn), (arn, ""));
        assert!(crate::arn::parse_execution_arn(arn).is_some());
    }

    #[test]
    fn milliseconds_go_out_as_epoch_seconds() {
        let mut value =
            json!({"Events": [{"EventTimestamp": 1_764_000_000_123_i64, "StepDetails": {"NextAttemptTimestamp": 5}}]});
        to_epoch_seconds(&mut value);
        assert_eq!(value["Events"][0]["EventTimestamp"], json!(1_764_000_000.123));
        assert_eq!(value["Events"][0]["StepDetails"]["NextAttemptTimestamp"], json!(0.005));
    }
}
