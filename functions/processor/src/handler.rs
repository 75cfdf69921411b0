//! The processor's handler: statistics over `{"values": [...], "operation": "..."}`.
//!
//! Python original, for reference of the semantics kept here:
//!
//! ```python
//! values = event.get("values", [])
//! operation = event.get("operation", "sum_and_average")
//! if not values:
//!     return {"error": "No values provided"}
//! total = sum(values)
//! return {"operation": operation, "count": len(values), "sum": total,
//!         "average": total / len(values), "max": max(values), "min": min(values)}
//! ```
//!
//! The handler takes the raw event text rather than a `serde_json::Value`:
//! without `serde_json`'s `arbitrary_precision` feature an integer beyond
//! 64 bits would silently become a float there, while Python keeps it exact.

use pyjson::Value;
use serde_json::value::RawValue;

use crate::error::ProcessorError;
use crate::pynum::{self, Number};

/// `operation` when the event names none.
pub const DEFAULT_OPERATION: &str = "sum_and_average";

/// The `error` message of the result for a missing or empty `values`.
pub const NO_VALUES_MESSAGE: &str = "No values provided";

/// How many characters of an offending value an error message quotes.
const QUOTE_CHARS: usize = 60;

/// Handles one invocation: reads the event, computes the statistics, and
/// returns them as Python-`json.dumps` text, which the Lambda runtime sends
/// byte for byte.
///
/// # Errors
///
/// [`ProcessorError`] for an event that is not an object, a `values` that
/// is not an array of numbers, an `operation` that is not a string, or a
/// result JSON cannot carry.
pub fn handle(event: &RawValue) -> Result<Box<RawValue>, ProcessorError> {
    let event = pyjson::loads(event.get())?;
    let result = process(&event)?;
    // `process` rejects non-finite sums, the only source of non-JSON floats.
    pyjson::to_raw_value(&result).map_err(|_| ProcessorError::NonFiniteResult { sum: "not finite".to_owned() })
}

/// Computes the result object for a decoded event: the statistics, or
/// `{"error": "No values provided"}` when `values` is missing, `null` or
/// empty (a successful result, as in the original).
///
/// # Errors
///
/// See [`handle`].
pub fn process(event: &Value) -> Result<Value, ProcessorError> {
    if !matches!(event, Value::Dict(_)) {
        return Err(ProcessorError::EventNotObject { got: event.describe(QUOTE_CHARS) });
    }
    let operation = match event.get("operation") {
        None => DEFAULT_OPERATION.to_owned(),
        Some(Value::Str(name)) => name.clone(),
        Some(other) => {
            return Err(ProcessorError::OperationNotString { got: other.describe(QUOTE_CHARS) });
        }
    };
    let values = match event.get("values") {
        None | Some(Value::Null) => return Ok(no_values()),
        Some(Value::List(items)) => items,
        Some(other) => {
            return Err(ProcessorError::ValuesNotArray { got: other.describe(QUOTE_CHARS) });
        }
    };
    let numbers = values
        .iter()
        .enumerate()
        .map(|(index, value)| match value {
            Value::Int(i) => Ok(Number::Int(*i)),
            Value::Float(f) => Ok(Number::Float(*f)),
            other => Err(ProcessorError::ValueNotNumber { index, got: other.describe(QUOTE_CHARS) }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (Some(max), Some(min)) = (pynum::max(&numbers), pynum::min(&numbers)) else {
        return Ok(no_values());
    };

    let total = pynum::sum(&numbers).map_err(|_| ProcessorError::IntegerOverflow)?;
    if let Number::Float(f) = total
        && !f.is_finite()
    {
        return Err(ProcessorError::NonFiniteResult { sum: pyjson::dumps(&Value::Float(f)) });
    }
    let count = numbers.len();
    Ok(Value::Dict(vec![
        ("operation".to_owned(), Value::Str(operation)),
        ("count".to_owned(), Value::Int(i128::try_from(count).unwrap_or(i128::MAX))),
        ("sum".to_owned(), total.into()),
        ("average".to_owned(), Value::Float(pynum::divide(total, count))),
        ("max".to_owned(), max.into()),
        ("min".to_owned(), min.into()),
    ]))
}

fn no_values() -> Value {
    Value::Dict(vec![("error".to_owned(), Value::from(NO_VALUES_MESSAGE))])
}
