//! From the AWS SDK's durable execution types to the plain [`super::model`] types.

use aws_sdk_lambda::operation::get_durable_execution::GetDurableExecutionOutput;
use aws_sdk_lambda::types::{ErrorObject, Event, EventError, EventInput, EventResult, Execution};

use super::model::{ErrorInfo, ExecutionDetail, ExecutionSummary, HistoryEvent, InvocationTimes, Timestamp};

/// A listed execution.
pub(crate) fn summary(execution: &Execution) -> ExecutionSummary {
    let started = Timestamp::from_smithy(execution.start_timestamp());
    let ended = execution.end_timestamp().map(Timestamp::from_smithy);
    ExecutionSummary {
        arn: execution.durable_execution_arn().to_owned(),
        name: execution.durable_execution_name().to_owned(),
        function_arn: execution.function_arn().to_owned(),
        status: execution.status().as_str().to_owned(),
        started: Some(started),
        ended,
        duration_ms: started.until(ended),
    }
}

/// A `GetDurableExecution` answer.
pub(crate) fn detail(output: &GetDurableExecutionOutput) -> ExecutionDetail {
    let started = Timestamp::from_smithy(output.start_timestamp());
    let ended = output.end_timestamp().map(Timestamp::from_smithy);
    ExecutionDetail {
        arn: output.durable_execution_arn().to_owned(),
        name: output.durable_execution_name().to_owned(),
        function_arn: output.function_arn().to_owned(),
        version: output.version().map(str::to_owned),
        status: output.status().as_str().to_owned(),
        started: Some(started),
        ended,
        duration_ms: started.until(ended),
        input: output.input_payload().map(str::to_owned),
        result: output.result().map(str::to_owned),
        error: output.error().map(error_object),
    }
}

/// A service error object.
pub(crate) fn error_object(error: &ErrorObject) -> ErrorInfo {
    ErrorInfo {
        error_type: error.error_type().map(str::to_owned),
        message: error.error_message().map(str::to_owned),
        data: error.error_data().map(str::to_owned),
        stack_trace: error.stack_trace().to_vec(),
    }
}

/// One history event with its per-type details flattened.
pub(crate) fn history_event(event: &Event) -> HistoryEvent {
    let mut out = HistoryEvent {
        id: event.event_id(),
        event_type: event.event_type().map_or_else(|| "Unknown".to_owned(), |t| t.as_str().to_owned()),
        at: event.event_timestamp().map(Timestamp::from_smithy),
        operation_id: event.id().map(str::to_owned),
        name: event.name().map(str::to_owned),
        parent_id: event.parent_id().map(str::to_owned),
        ..HistoryEvent::default()
    };
    if let Some(d) = event.execution_started_details() {
        out.input = d.input().and_then(|i| i.payload()).map(str::to_owned);
        out.truncated |= d.input().and_then(EventInput::truncated).unwrap_or(false);
    }
    if let Some(d) = event.chained_invoke_started_details() {
        out.target = Some(d.function_name().to_owned());
        out.input = d.input().and_then(|i| i.payload()).map(str::to_owned);
        out.truncated |= d.input().and_then(EventInput::truncated).unwrap_or(false);
    }
    if let Some(d) = event.wait_started_details() {
        out.wait_seconds = Some(d.duration());
    }
    if let Some(d) = event.wait_succeeded_details() {
        out.wait_seconds = d.duration().or(out.wait_seconds);
    }
    if let Some(d) = event.callback_started_details() {
        out.callback_id = Some(d.callback_id().to_owned());
    }
    if let Some(d) = event.step_succeeded_details() {
        set_result(&mut out, d.result());
        if let Some(retry) = d.retry_details() {
            out.attempt = Some(retry.current_attempt());
        }
    }
    if let Some(d) = event.step_failed_details() {
        set_error(&mut out, d.error());
        if let Some(retry) = d.retry_details() {
            out.attempt = Some(retry.current_attempt());
            out.next_attempt_delay_seconds = retry.next_attempt_delay_seconds();
        }
    }
    let results = [
        event.execution_succeeded_details().and_then(|d| d.result()),
        event.chained_invoke_succeeded_details().and_then(|d| d.result()),
        event.callback_succeeded_details().and_then(|d| d.result()),
        event.context_succeeded_details().and_then(|d| d.result()),
    ];
    for result in results.into_iter().flatten() {
        set_result(&mut out, Some(result));
    }
    let errors = [
        event.execution_failed_details().and_then(|d| d.error()),
        event.execution_timed_out_details().and_then(|d| d.error()),
        event.execution_stopped_details().and_then(|d| d.error()),
        event.chained_invoke_failed_details().and_then(|d| d.error()),
        event.chained_invoke_timed_out_details().and_then(|d| d.error()),
        event.chained_invoke_stopped_details().and_then(|d| d.error()),
        event.callback_failed_details().and_then(|d| d.error()),
        event.callback_timed_out_details().and_then(|d| d.error()),
        event.context_failed_details().and_then(|d| d.error()),
        event.wait_cancelled_details().and_then(|d| d.error()),
    ];
    for error in errors.into_iter().flatten() {
        set_error(&mut out, Some(error));
    }
    if let Some(d) = event.invocation_completed_details() {
        out.invocation = Some(InvocationTimes {
            started: known(Timestamp::from_smithy(d.start_timestamp())),
            ended: known(Timestamp::from_smithy(d.end_timestamp())),
            request_id: Some(d.request_id().to_owned()).filter(|id| !id.is_empty()),
        });
        set_error(&mut out, d.error());
    }
    out
}

/// A required timestamp the service left out deserializes as the epoch: treat it as unknown.
fn known(time: Timestamp) -> Option<Timestamp> {
    Some(time).filter(|t| t.0 > 0)
}

fn set_result(out: &mut HistoryEvent, result: Option<&EventResult>) {
    if let Some(result) = result {
        out.result = result.payload().map(str::to_owned);
        out.truncated |= result.truncated().unwrap_or(false);
    }
}

fn set_error(out: &mut HistoryEvent, error: Option<&EventError>) {
    if let Some(error) = error {
        out.error = Some(error.payload().map(error_object).unwrap_or_default());
        out.truncated |= error.truncated().unwrap_or(false);
    }
}

/// One history event as the local target records it (`<EventType>Details` holding what a replay needs: inputs,
/// results and errors with their payloads, retry details, a wait's end, a callback's id), timestamps in epoch
/// milliseconds: the record `replay` of an AWS execution hands the local target.
pub(crate) fn recorded_event(event: &Event) -> Option<local::engine::model::Event> {
    use serde_json::{Map, Value, json};
    let event_type = event.event_type()?.as_str();
    let parsed: local::engine::model::EventType = serde_json::from_value(json!(event_type)).ok()?;
    let millis = |time: &aws_smithy_types::DateTime| time.to_millis().unwrap_or_default();
    let payload = |text: Option<&str>| json!({ "Payload": text });
    let error = |error: Option<&EventError>| {
        error.and_then(EventError::payload).map(|e| {
            json!({ "Payload": {
                "ErrorType": e.error_type(),
                "ErrorMessage": e.error_message(),
                "ErrorData": e.error_data(),
                "StackTrace": e.stack_trace(),
            }})
        })
    };
    let result = |result: Option<&EventResult>| result.map(|r| payload(r.payload()));
    let retry = |retry: Option<&aws_sdk_lambda::types::RetryDetails>| {
        retry.map(|r| json!({ "CurrentAttempt": r.current_attempt(), "NextAttemptDelaySeconds": r.next_attempt_delay_seconds() }))
    };
    let mut details = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            details.insert(key.to_owned(), value);
        }
    };
    if let Some(d) = event.execution_started_details() {
        put("Input", d.input().map(|i| payload(i.payload())));
    }
    if let Some(d) = event.execution_succeeded_details() {
        put("Result", result(d.result()));
    }
    for e in [
        event.execution_failed_details().and_then(|d| d.error()),
        event.execution_timed_out_details().and_then(|d| d.error()),
        event.execution_stopped_details().and_then(|d| d.error()),
        event.context_failed_details().and_then(|d| d.error()),
        event.wait_cancelled_details().and_then(|d| d.error()),
        event.chained_invoke_failed_details().and_then(|d| d.error()),
        event.chained_invoke_timed_out_details().and_then(|d| d.error()),
        event.chained_invoke_stopped_details().and_then(|d| d.error()),
        event.callback_failed_details().and_then(|d| d.error()),
        event.callback_timed_out_details().and_then(|d| d.error()),
    ] {
        put("Error", error(e));
    }
    for r in [
        event.context_succeeded_details().and_then(|d| d.result()),
        event.chained_invoke_succeeded_details().and_then(|d| d.result()),
        event.callback_succeeded_details().and_then(|d| d.result()),
    ] {
        put("Result", result(r));
    }
    if let Some(d) = event.step_succeeded_details() {
        put("Result", result(d.result()));
        put("RetryDetails", retry(d.retry_details()));
    }
    if let Some(d) = event.step_failed_details() {
        put("Error", error(d.error()));
        put("RetryDetails", retry(d.retry_details()));
    }
    if let Some(d) = event.wait_started_details() {
        put("Duration", Some(json!(d.duration())));
        put("ScheduledEndTimestamp", Some(json!(millis(d.scheduled_end_timestamp()))));
    }
    if let Some(d) = event.callback_started_details() {
        put("CallbackId", Some(json!(d.callback_id())));
    }
    let mut outer = Map::new();
    outer.insert(parsed.details_key(), Value::Object(details));
    Some(local::engine::model::Event {
        event_type: parsed,
        sub_type: event.sub_type().map(str::to_owned),
        event_id: i64::from(event.event_id()),
        id: event.id().map(str::to_owned),
        name: event.name().map(str::to_owned),
        event_timestamp: event.event_timestamp().map(millis).unwrap_or_default(),
        parent_id: event.parent_id().map(str::to_owned),
        details: outer,
    })
}
