//! Typed failures of the orchestrator, each with a stable error type that
//! the durable execution records.

use aws_durable_execution_sdk::{BoxError, TypedError};

/// Why the orchestrator could not start or complete an execution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OrchestratorError {
    /// A required environment variable is missing at start-up.
    #[error("{name} is not set: the orchestrator needs the name or ARN of the processor function to invoke")]
    MissingSetting {
        /// The variable's name.
        name: &'static str,
    },
    /// The execution input could not be read as JSON the way Python reads
    /// it (for example an integer literal beyond 128 bits).
    #[error("the event cannot be read: {0}")]
    UnreadableEvent(#[from] pyjson::ParseError),
    /// The execution input is not a JSON object.
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
    /// An element of `values` is not a finite JSON number.
    #[error("\"values\"[{index}] must be a finite number, got {got}")]
    ValueNotNumber {
        /// Zero-based position of the offending element.
        index: usize,
        /// What the element was instead.
        got: String,
    },
    /// The processor's payload would not fit in one durable operation: the
    /// step's result and the chained invoke's input are both checkpointed,
    /// and the service caps each operation payload.
    #[error(
        "the processor payload for {count} values would be {bytes} bytes, over the {limit} bytes (256 KiB) a durable \
         operation can checkpoint; send fewer values per execution"
    )]
    PayloadTooLarge {
        /// How many values the input holds.
        count: usize,
        /// Size of the prepared payload, in bytes.
        bytes: usize,
        /// The service's limit, in bytes.
        limit: usize,
    },
    /// A value to send or return holds a non-finite float, which standard
    /// JSON cannot carry.
    #[error("cannot write the result: {0}")]
    NotStandardJson(#[from] pyjson::NotStandardJson),
    /// The processor's result is not JSON this port can re-emit.
    #[error("the processor result cannot be read: {0}")]
    UnreadableProcessorResult(pyjson::ParseError),
}

impl OrchestratorError {
    /// The stable error type recorded for this failure (the durable
    /// execution's `ErrorType`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::MissingSetting { .. } => "MissingSetting",
            Self::UnreadableEvent(_) => "UnreadableEvent",
            Self::EventNotObject { .. } => "InvalidEvent",
            Self::ValuesNotArray { .. } | Self::ValueNotNumber { .. } => "InvalidValues",
            Self::PayloadTooLarge { .. } => "PayloadTooLarge",
            Self::UnreadableProcessorResult(_) => "InvalidProcessorResult",
            Self::NotStandardJson(_) => "NotStandardJson",
        }
    }

    /// Boxes the error for the durable SDK, tagged with
    /// [`error_type`](Self::error_type) so the checkpointed failure carries
    /// that type instead of the SDK's generic one.
    pub fn into_durable(self) -> BoxError {
        Box::new(TypedError::with_type(self.error_type(), self))
    }
}
