//! Handler ids to handlers: what the binary looks up at start-up.

use crate::support::{DurableHandler, Entry, PlainHandler};

/// Environment variable naming the handler a function runs.
pub const HANDLER_ENV: &str = "CONFORMANCE_HANDLER";

/// A handler the binary can run.
#[derive(Clone, Copy, Debug)]
pub enum Handler {
    /// A durable function (run through the SDK's `run`).
    Durable(DurableHandler),
    /// A plain Lambda function (run through `lambda_runtime`).
    Plain(PlainHandler),
}

/// Every suite's durable handler table.
pub const SUITES: &[&[Entry]] = &[
    crate::step::HANDLERS,
    crate::wait::HANDLERS,
    crate::child::HANDLERS,
    crate::callback::HANDLERS,
    crate::invoke::HANDLERS,
    crate::wait_for_condition::HANDLERS,
    crate::wait_for_callback::HANDLERS,
    crate::parallel::HANDLERS,
    crate::map::HANDLERS,
    crate::plugin::HANDLERS,
];

/// The handler with id `id`.
pub fn handler(id: &str) -> Option<Handler> {
    let durable = SUITES.iter().flat_map(|suite| suite.iter()).find(|(candidate, _)| *candidate == id);
    if let Some((_, handler)) = durable {
        return Some(Handler::Durable(*handler));
    }
    crate::targets::HANDLERS.iter().find(|(candidate, _)| *candidate == id).map(|(_, handler)| Handler::Plain(*handler))
}

/// Every durable handler id, suite by suite.
pub fn durable_ids() -> impl Iterator<Item = &'static str> {
    SUITES.iter().flat_map(|suite| suite.iter()).map(|(id, _)| *id)
}

/// Every plain handler id.
pub fn plain_ids() -> impl Iterator<Item = &'static str> {
    crate::targets::HANDLERS.iter().map(|(id, _)| *id)
}

/// Why a handler id cannot start: it names no handler.
#[derive(Debug, thiserror::Error)]
#[error(
    "{HANDLER_ENV}={id:?} names no conformance handler (requirement ids such as `1-1`, or target ids such as `target-echo`)"
)]
pub struct UnknownHandler {
    /// The id.
    pub id: String,
}
