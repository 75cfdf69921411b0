//! Rust handlers for AWS's durable-execution conformance suite (the `PyPI` package
//! `aws-durable-execution-conformance-tests` 1.0.0), on the official `aws-durable-execution-sdk`.
//!
//! One Lambda binary serves every requirement: the function's `CONFORMANCE_HANDLER` variable names the handler,
//! which is the requirement's id (`1-1`, `8-14`, ...) or, for the plain functions the invoke suite calls, a
//! target id ([`targets`]). Each handler is written from the requirement's `handler` and `invocations` text.
//!
//! - One module per suite: [`step`], [`wait`], [`child`], [`callback`], [`invoke`], [`wait_for_condition`],
//!   [`wait_for_callback`], [`parallel`], [`map`], [`plugin`] (only what the SDK can express).
//! - [`registry`] maps handler ids to handlers; [`targets`] holds the invoke targets.
//! - [`serdes`] holds the custom serializers the requirements configure; [`batch`] the map/parallel result
//!   projections; [`support`] what every suite shares.
//! - [`logging`] writes log lines as flat JSON, the shape the suite's log checks read.
//!
//! The deployment side (which function runs which handler, and the logical ids the validator resolves) is
//! `conformance_app` (conformance/app).

pub mod batch;
pub mod callback;
pub mod child;
pub mod invoke;
pub mod logging;
pub mod map;
pub mod parallel;
pub mod plugin;
pub mod registry;
pub mod serdes;
pub mod step;
pub mod support;
pub mod targets;
pub mod wait;
pub mod wait_for_callback;
pub mod wait_for_condition;
