//! Errors of the processor, each with a stable Lambda `errorType`.

use lambda_runtime::Diagnostic;

/// Why the processor rejected an event.
///
/// Each variant maps to a stable `errorType` ([`ProcessorError::error_type`])
/// that callers can match on; the message says precisely what was wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessorError {
    /// The event text could not be read as JSON the way Python reads it
    /// (for example an integer literal beyond 128 bits).
    #[error("the event cannot be read: {0}")]
    UnreadableEvent(#[from] pyjson::ParseError),
    /// The event is not a JSON object.
    #[error("the event must be a JSON object, got {got}")]
    EventNotObject {
        /// What the event was instead.
        got: String,
    },
    /// `values` is present but not an array.
    #[error("\"values\" must be an array of numbers, got {got}")]
    ValuesNotArray {
        /// What `values` was instead.
        got: String,
    },
    /// An element of `values` is not a JSON number.
    #[error("\"values\"[{index}] must be a number, got {got}")]
    ValueNotNumber {
        /// Zero-based position of the offending element.
        index: usize,
        /// What the element was instead.
        got: String,
    },
    /// `operation` is present but not a string.
    #[error("\"operation\" must be a string, got {got}")]
    OperationNotString {
        /// What `operation` was instead.
        got: String,
    },
    /// The exact integer sum does not fit in 128 bits.
    #[error("the sum of the integer values exceeds the supported 128-bit range")]
    IntegerOverflow,
    /// The float sum is not finite (an overflowing or infinite input), which
    /// standard JSON cannot carry.
    #[error("the sum of the values is {sum}, which JSON cannot represent")]
    NonFiniteResult {
        /// Python's rendering of the sum (`Infinity`, `-Infinity`, `NaN`).
        sum: String,
    },
}

impl ProcessorError {
    /// The stable Lambda `errorType` of this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::UnreadableEvent(_) => "UnreadableEvent",
            Self::EventNotObject { .. } => "InvalidEvent",
            Self::ValuesNotArray { .. } | Self::ValueNotNumber { .. } => "InvalidValues",
            Self::OperationNotString { .. } => "InvalidOperation",
            Self::IntegerOverflow => "IntegerOverflow",
            Self::NonFiniteResult { .. } => "NonFiniteResult",
        }
    }
}

impl From<ProcessorError> for Diagnostic {
    fn from(error: ProcessorError) -> Self {
        Self { error_type: error.error_type().to_owned(), error_message: error.to_string() }
    }
}
