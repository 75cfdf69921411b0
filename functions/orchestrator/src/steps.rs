//! Bodies of the orchestrator's durable steps.

use pyjson::Value;
use serde_json::value::RawValue;

use crate::error::OrchestratorError;

/// Name of the step that validates and prepares the processor's input.
pub const PREPARE_INPUT: &str = "prepare_input";

/// The operation the orchestrator asks the processor for.
pub const OPERATION: &str = "sum_and_average";

/// How many characters of an offending value an error message quotes.
const QUOTE_CHARS: usize = 60;

/// The largest payload one durable operation can checkpoint (the official
/// SDK's `CHECKPOINT_SIZE_LIMIT_BYTES`). The prepared payload is both the
/// step's result and the chained invoke's input, so it must fit.
pub const MAX_OPERATION_PAYLOAD: usize = 256 * 1024;

/// The `prepare_input` step: checks that `values` is an array of finite
/// JSON numbers (an empty array is valid) and returns the processor's
/// payload, `{"values": <values>, "operation": "sum_and_average"}`, as
/// Python-`json.dumps` text.
///
/// # Errors
///
/// [`OrchestratorError::ValuesNotArray`] or
/// [`OrchestratorError::ValueNotNumber`], naming what was found;
/// [`OrchestratorError::PayloadTooLarge`] when the payload would be over
/// [`MAX_OPERATION_PAYLOAD`], so nothing the service would refuse is
/// checkpointed and the processor is not invoked.
pub fn prepare_input(values: &Value) -> Result<Box<RawValue>, OrchestratorError> {
    tracing::info!(
        values = %pyjson::dumps(values),
        "Preparing input values for processing"
    );
    let Value::List(items) = values else {
        return Err(OrchestratorError::ValuesNotArray { got: values.describe(QUOTE_CHARS) });
    };
    for (index, item) in items.iter().enumerate() {
        let finite = match item {
            Value::Int(_) => true,
            Value::Float(f) => f.is_finite(),
            _ => false,
        };
        if !finite {
            return Err(OrchestratorError::ValueNotNumber { index, got: item.describe(QUOTE_CHARS) });
        }
    }
    let payload =
        Value::Dict(vec![("values".to_owned(), values.clone()), ("operation".to_owned(), Value::from(OPERATION))]);
    // Every float was checked finite above, so this cannot fail in practice.
    let raw = pyjson::to_raw_value(&payload)?;
    if raw.get().len() > MAX_OPERATION_PAYLOAD {
        return Err(OrchestratorError::PayloadTooLarge {
            count: items.len(),
            bytes: raw.get().len(),
            limit: MAX_OPERATION_PAYLOAD,
        });
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::prepare_input;
    use crate::error::OrchestratorError;

    fn prepare(values: &str) -> Result<String, OrchestratorError> {
        let values = pyjson::loads(values)?;
        prepare_input(&values).map(|raw| raw.get().to_owned())
    }

    #[test]
    fn payload_uses_python_spacing_and_keeps_numbers() {
        assert_eq!(
            prepare("[10,20,30,40,50]").ok().as_deref(),
            Some(r#"{"values": [10, 20, 30, 40, 50], "operation": "sum_and_average"}"#)
        );
        assert_eq!(
            prepare("[1.50, -2, 18446744073709551616]").ok().as_deref(),
            Some(r#"{"values": [1.5, -2, 18446744073709551616], "operation": "sum_and_average"}"#)
        );
        assert_eq!(prepare("[]").ok().as_deref(), Some(r#"{"values": [], "operation": "sum_and_average"}"#));
    }

    #[test]
    fn rejects_what_is_not_an_array_of_finite_numbers() {
        let cases = [
            ("\"10,20\"", "\"values\" must be an array of numbers, got a string (\"10,20\")"),
            ("null", "\"values\" must be an array of numbers, got null (null)"),
            ("{\"a\": 1}", "\"values\" must be an array of numbers, got an object ({\"a\": 1})"),
            ("[1, \"2\"]", "\"values\"[1] must be a finite number, got a string (\"2\")"),
            ("[true]", "\"values\"[0] must be a finite number, got a boolean (true)"),
            ("[1, [2]]", "\"values\"[1] must be a finite number, got an array ([2])"),
            ("[1e400]", "\"values\"[0] must be a finite number, got a float (Infinity)"),
            ("[\"NaN\", \"Infinity\"]", "\"values\"[0] must be a finite number, got a string (\"NaN\")"),
        ];
        for (values, message) in cases {
            let err = prepare(values).err();
            assert_eq!(err.as_ref().map(OrchestratorError::error_type), Some("InvalidValues"));
            assert_eq!(err.map(|e| e.to_string()).as_deref(), Some(message), "values {values}");
        }
    }

    #[test]
    fn the_payload_must_fit_in_one_checkpointed_operation() {
        // 80 000 one-digit values: 240 044 bytes, under the limit.
        let fits = format!("[{}]", vec!["1"; 80_000].join(","));
        assert!(prepare(&fits).is_ok_and(|p| p.len() < super::MAX_OPERATION_PAYLOAD));
        let over = format!("[{}]", vec!["1"; 100_000].join(","));
        let err = prepare(&over).err();
        assert_eq!(err.as_ref().map(OrchestratorError::error_type), Some("PayloadTooLarge"));
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some(
                "the processor payload for 100000 values would be 300044 bytes, over the 262144 bytes (256 KiB) a \
                 durable operation can checkpoint; send fewer values per execution"
            )
        );
    }
}
