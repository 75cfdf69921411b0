//! The local target: AWS Lambda on this machine, with a durable execution engine of its own.
//!
//! One process serves one loopback endpoint: the Lambda API (functions, versions, aliases, Invoke), the durable
//! execution API, and a private control API for the CLI. It runs each function's real `bootstrap` under a Lambda
//! Runtime API of its own, and keeps every durable execution in one `SQLite` file, so whatever process is killed,
//! an accepted execution runs to its end once the service is started again.
//!
//! # Layout
//!
//! - [`engine`]: the durable state machine, its store and its timers: decides, never acts.
//! - [`runtime`]: function processes (pools, instances, the Runtime API they poll).
//! - [`api`]: the HTTP routers (Lambda, durable execution, Runtime, control) and the service's error shape.
//! - [`service`]: ties them together: carries out the engine's actions.
//! - [`deployment`]: what runs, planned from synthesized CloudFormation templates.
//! - [`supervisor`]: the state folder, the background process and the CLI's side of it.
//! - [`embedded`]: the service inside a test's own process, on a clock the test moves (the test library's target).

#![warn(unreachable_pub)]

mod api;
pub mod arn;
pub mod deployment;
pub mod embedded;
pub mod engine;
pub mod error;
mod files;
pub mod http;
#[cfg(feature = "test-hooks")]
pub mod oracle;
pub mod protocol;
pub mod runtime;
pub mod service;
pub mod supervisor;
mod time;

pub use supervisor::{DaemonCommand, DeployOutcome, DeployRequest, Notice, ServiceAction, StackTemplate, Supervisor};

pub use error::LocalError;
pub use protocol::{ClockMode, ClockMove, ClockReading};
