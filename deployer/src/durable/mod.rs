//! Durable executions through the Lambda durable execution API: list them, read one with its history, follow one
//! live, stop one. The same calls serve AWS and the local target.
//!
//! [`api`] is the only module that calls the service; it returns the plain types of [`model`]. [`timeline`] turns a
//! history into the operations and invocations a reader follows, and [`follow`] polls a running execution until it
//! ends. Drawing them is the output hosts' business (`crate::io::durable`). `model` and `timeline` are re-exported
//! from [`crate::payloads`], which holds the data the output messages carry, so that `io` never imports this module.

pub(crate) mod api;
pub(crate) mod convert;
pub(crate) mod follow;

pub(crate) use crate::payloads::executions as model;
pub(crate) use crate::payloads::timeline;
pub(crate) use api::{ListOptions, Selector};
pub(crate) use model::Timestamp;

#[cfg(test)]
pub(crate) mod tests;
