//! The orchestrator: a Lambda durable function that validates its input in
//! a checkpointed step, invokes the processor function through a
//! checkpointed chained invoke, and reports the processor's result,
//! output-identical to the Python pattern it ports.
//!
//! - [`workflow`] is the durable handler (the two operations and the
//!   response).
//! - [`steps`] holds the body of the `prepare_input` step.
//! - [`config`] reads the start-up configuration.
//! - [`error`] lists the typed failures and their stable error types.
//!
//! The handler runs on the official `aws-durable-execution-sdk`; its tests
//! drive it with the SDK's `LocalRunner` and through the SDK's production
//! entry point (`tests/`).

pub mod config;
pub mod error;
pub mod steps;
pub mod workflow;
