//! Test durable functions in Rust, on the local target's engine, from a plain `#[tokio::test]`.
//!
//! A [`TestApp`] builds the real binaries of the functions your stacks declare, and runs them in a service of the
//! test's own: a private state folder, a loopback port and a **virtual clock** that moves only when the test moves
//! it. A workflow that waits a week, retries with backoff and waits for a person's approval is then tested step by
//! step, in milliseconds, with the history showing the times the handler asked for. Chained invokes run the real
//! target function. Tests running in parallel never share a service, a port or a state folder.
//!
//! ```
//! # async fn example() -> durable_testing::Result<()> {
//! use durable_testing::{Status, TestApp};
//! use std::time::Duration;
//!
//! let app = TestApp::builder().stack(stacks::pattern::stack(&constructs::App::new())?).start().await?;
//! let orchestrator = app.function("Orchestrator")?.qualifier("live");
//! let execution = orchestrator.start(serde_json::json!({"values": [1, 2]})).await?;
//! assert_eq!(execution.status().await?, Status::Succeeded);
//! assert_eq!(execution.history().await?.names(), ["prepare_input", "invoke_processor"]);
//! app.clock().advance(Duration::from_hours(24 * 7)).await?; // a week passes in no time
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(example()).unwrap();
//! ```
//!
//! - [`TestApp`]: start the app's stacks; [`Function`]s to invoke; the [`Clock`]; [`Faults`]; a restart.
//! - [`Execution`]: its status, its result, its typed [`History`], its [`Callback`]s by name, stop.
//! - [`Clock`]: `advance`, `fire_next_timer`, `run_until_idle`.
//! - [`Faults`]: kill a function's process when an operation starts, fail or cut the next chained invoke; with
//!   [`TestApp::restart`], prove a workflow's idempotency.

mod app;
mod build;
mod clock;
mod error;
mod execution;
mod faults;
mod history;

pub use app::{Function, TestApp, TestAppBuilder};
pub use clock::Clock;
pub use error::{Result, TestError};
pub use execution::{Callback, Execution, Status};
pub use faults::Faults;
pub use history::{Details, Failure, History, Operation, OperationStatus};
