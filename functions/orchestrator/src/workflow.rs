//! The durable handler: `prepare_input` step, `invoke_processor` chained
//! invoke, and the Python-identical response.
//!
//! Python original, for reference of the behaviour kept here:
//!
//! ```python
//! values = event.get("values", [10, 20, 30, 40, 50])
//! prepared = context.step(prepare_input(values), name="prepare_input")
//! result = context.invoke(PROCESSOR_FUNCTION_NAME, prepared, name="invoke_processor")
//! return {"statusCode": 200, "body": json.dumps({
//!     "message": "Durable orchestration completed successfully",
//!     "input_values": values, "processing_result": result})}
//! ```
//!
//! Every JSON text the handler produces (the step result, the invoke
//! payload, the response and its body) is Python-`json.dumps` text carried
//! as a [`RawValue`], which the SDK stores and returns byte for byte.

use aws_durable_execution_sdk::{BoxError, DurableContext, RetryDecision};
use pyjson::Value;
use serde_json::value::RawValue;

use crate::error::OrchestratorError;
use crate::steps;

/// Name of the chained invoke of the processor function.
pub const INVOKE_PROCESSOR: &str = "invoke_processor";

/// `values` when the event has none.
pub const DEFAULT_VALUES: [i128; 5] = [10, 20, 30, 40, 50];

/// The `message` of a successful response body.
pub const SUCCESS_MESSAGE: &str = "Durable orchestration completed successfully";

/// How many characters of an offending value an error message quotes.
const QUOTE_CHARS: usize = 60;

/// The durable handler. `event` is the execution input as JSON text;
/// `processor_function` is the function the chained invoke targets.
///
/// Log lines outside operations ("Starting durable orchestration",
/// "Processing complete") are written only when the code runs live, not
/// while the SDK replays recorded operations; the step's own log line
/// runs only when the step body runs.
///
/// # Errors
///
/// A typed [`OrchestratorError`] (through [`OrchestratorError::into_durable`])
/// for an unreadable or non-object event, invalid values (the step fails,
/// nothing is invoked) or an unreadable processor result; the SDK's
/// operation error when the invoke fails.
pub async fn handle(
    event: Box<RawValue>,
    ctx: DurableContext,
    processor_function: String,
) -> Result<Box<RawValue>, BoxError> {
    let event = pyjson::loads(event.get()).map_err(|e| OrchestratorError::from(e).into_durable())?;
    let values = input_values(&event).map_err(OrchestratorError::into_durable)?;
    if !ctx.is_replaying() {
        tracing::info!(values = %pyjson::dumps(&values), "Starting durable orchestration");
    }

    let step_values = values.clone();
    let prepared: Box<RawValue> = ctx
        .step(move |_| async move { steps::prepare_input(&step_values).map_err(OrchestratorError::into_durable) })
        .name(steps::PREPARE_INPUT)
        // Validation is deterministic: a retry would fail the same way.
        .retry_strategy(|_, _| RetryDecision::Stop)
        .await?;

    let result: Box<RawValue> = ctx.invoke(processor_function, prepared).name(INVOKE_PROCESSOR).await?;
    if !ctx.is_replaying() {
        tracing::info!(result = result.get(), "Processing complete");
    }

    response(&values, &result).map_err(OrchestratorError::into_durable)
}

/// The values to process: `event.values`, or [`DEFAULT_VALUES`] when the
/// key is missing. Whether they are valid is the step's business.
///
/// # Errors
///
/// [`OrchestratorError::EventNotObject`] when the event is not an object.
pub fn input_values(event: &Value) -> Result<Value, OrchestratorError> {
    if !matches!(event, Value::Dict(_)) {
        return Err(OrchestratorError::EventNotObject { got: event.describe(QUOTE_CHARS) });
    }
    Ok(event
        .get("values")
        .cloned()
        .unwrap_or_else(|| Value::List(DEFAULT_VALUES.iter().copied().map(Value::Int).collect())))
}

/// The execution result: `{"statusCode": 200, "body": <text>}` where the
/// body is the `json.dumps` text of the message, the input values and the
/// processor's result (re-read so its key order and number formatting,
/// `30.0` included, come out exactly as Python would print them).
///
/// # Errors
///
/// [`OrchestratorError::UnreadableProcessorResult`] when the processor's
/// result cannot be read.
pub fn response(values: &Value, processing_result: &RawValue) -> Result<Box<RawValue>, OrchestratorError> {
    let processing_result =
        pyjson::loads(processing_result.get()).map_err(OrchestratorError::UnreadableProcessorResult)?;
    let body = Value::Dict(vec![
        ("message".to_owned(), Value::from(SUCCESS_MESSAGE)),
        ("input_values".to_owned(), values.clone()),
        ("processing_result".to_owned(), processing_result),
    ]);
    let response = Value::Dict(vec![
        ("statusCode".to_owned(), Value::Int(200)),
        ("body".to_owned(), Value::Str(pyjson::dumps(&body))),
    ]);
    Ok(pyjson::to_raw_value(&response)?)
}

#[cfg(test)]
mod tests {
    use super::{input_values, response};
    use serde_json::value::RawValue;

    /// The pattern's documented output for `{"values": [10, 20, 30, 40, 50]}`.
    const SEED_OUTPUT: &str = r#"{"statusCode": 200, "body": "{\"message\": \"Durable orchestration completed successfully\", \"input_values\": [10, 20, 30, 40, 50], \"processing_result\": {\"operation\": \"sum_and_average\", \"count\": 5, \"sum\": 150, \"average\": 30.0, \"max\": 50, \"min\": 10}}"}"#;

    #[test]
    fn response_is_byte_identical_to_the_pattern() -> Result<(), Box<dyn std::error::Error>> {
        let values = input_values(&pyjson::loads(r#"{"values": [10, 20, 30, 40, 50]}"#)?)?;
        // Whatever spacing the result arrives with, it is re-emitted the Python way.
        let result = RawValue::from_string(
            r#"{"operation":"sum_and_average","count":5,"sum":150,"average":30.0,"max":50,"min":10}"#.to_owned(),
        )?;
        assert_eq!(response(&values, &result)?.get(), SEED_OUTPUT);
        Ok(())
    }

    #[test]
    fn missing_values_default_and_non_objects_are_rejected() -> Result<(), Box<dyn std::error::Error>> {
        let values = input_values(&pyjson::loads("{}")?)?;
        assert_eq!(pyjson::dumps(&values), "[10, 20, 30, 40, 50]");
        let kept = input_values(&pyjson::loads(r#"{"values": null}"#)?)?;
        assert_eq!(pyjson::dumps(&kept), "null");
        let err = input_values(&pyjson::loads("[1, 2]")?).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("the event must be a JSON object, got an array ([1, 2])")
        );
        Ok(())
    }
}
