//! What the map and parallel handlers return about a batch: the projections the requirements name, built from
//! the SDK's `BatchResult` accessors, and the "rethrow" of a batch's first failure.

use aws_durable_execution_sdk::builders::map_parallel::BatchResult;
use aws_durable_execution_sdk::{BoxError, TypedError};
use serde_json::{Map, Value, json};

/// A field of a batch projection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `completionReason`: why the batch ended (`ALL_COMPLETED`, `MIN_SUCCESSFUL_REACHED`, ...).
    CompletionReason,
    /// `status`: `SUCCEEDED` unless an item failed.
    Status,
    /// `successCount`.
    SuccessCount,
    /// `failureCount`.
    FailureCount,
    /// `totalCount`: items that were started.
    TotalCount,
}

/// `{completionReason, status, successCount, failureCount, totalCount}`.
pub const FULL: &[Field] =
    &[Field::CompletionReason, Field::Status, Field::SuccessCount, Field::FailureCount, Field::TotalCount];
/// `{completionReason, successCount, failureCount, totalCount}`.
pub const COUNTS: &[Field] = &[Field::CompletionReason, Field::SuccessCount, Field::FailureCount, Field::TotalCount];
/// `{completionReason, successCount, totalCount}`.
pub const SUCCESSES: &[Field] = &[Field::CompletionReason, Field::SuccessCount, Field::TotalCount];
/// `{successCount, totalCount}`.
pub const SUCCESS_AND_TOTAL: &[Field] = &[Field::SuccessCount, Field::TotalCount];

/// The projection of `batch` onto `fields`, as the requirement's expected result names them (the validator
/// compares whole objects, so no other key may appear).
pub fn project<O>(batch: &BatchResult<O>, fields: &[Field]) -> Value {
    let mut out = Map::new();
    for field in fields {
        let (key, value) = match field {
            Field::CompletionReason => ("completionReason", json!(batch.reason.as_str())),
            Field::Status => ("status", json!(batch.status().as_str())),
            Field::SuccessCount => ("successCount", json!(batch.success_count())),
            Field::FailureCount => ("failureCount", json!(batch.failure_count())),
            Field::TotalCount => ("totalCount", json!(batch.total_count())),
        };
        out.insert(key.to_owned(), value);
    }
    Value::Object(out)
}

/// Fails with the batch's first recorded item failure, under its recorded error type, if there is one.
///
/// The Rust SDK's `BatchResult` has no rethrow method (other SDKs call it `throwIfError`); this is the same
/// thing written with the accessors it has (`errors()`).
pub fn rethrow_first_failure<O>(batch: &BatchResult<O>) -> Result<(), BoxError> {
    match batch.errors().first() {
        None => Ok(()),
        Some(error) => Err(Box::new(TypedError::with_type(
            error.error_type.unwrap_or("ChildFnError"),
            format!("item {} failed: {}", error.index, error.message),
        ))),
    }
}
