//! Durable executions through the Lambda durable execution API: list them, read one with its history, follow one
//! live, stop one. The same calls serve AWS and the local target.
//!
//! [`api`] is the only module that calls the service; it returns the plain types of [`model`]. [`timeline`] turns a
//! history into the operations and invocations a reader follows, [`render`] draws them as tables, and [`follow`]
//! polls a running execution until it ends.

pub mod api;
pub mod convert;
pub mod follow;
pub mod model;
pub mod render;
pub mod timeline;

pub use api::{ListOptions, Selector};
pub use model::{ErrorInfo, ExecutionDetail, ExecutionSummary, HistoryEvent, Timestamp};
pub use timeline::{InvocationOutcome, InvocationRow, OperationRow, Row};

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod render_tests;
