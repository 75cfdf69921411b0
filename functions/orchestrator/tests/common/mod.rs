//! Helpers shared by the orchestrator's integration tests: JSON events, the
//! handler bound to a test processor name, and captured log lines.

#![allow(dead_code, reason = "each test binary uses a different subset of the helpers")]

use std::sync::Once;

use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::value::RawValue;
use tracing_subscriber::layer::SubscriberExt as _;

/// Function name the tests configure for the processor.
pub const PROCESSOR: &str = "processor-under-test";

/// The pattern's documented execution result for `{"values": [10, 20, 30, 40, 50]}`.
pub const SEED_OUTPUT: &str = r#"{"statusCode": 200, "body": "{\"message\": \"Durable orchestration completed successfully\", \"input_values\": [10, 20, 30, 40, 50], \"processing_result\": {\"operation\": \"sum_and_average\", \"count\": 5, \"sum\": 150, \"average\": 30.0, \"max\": 50, \"min\": 10}}"}"#;

/// The processor payload the `prepare_input` step records for the seed values.
pub const SEED_PAYLOAD: &str = r#"{"values": [10, 20, 30, 40, 50], "operation": "sum_and_average"}"#;

/// A JSON event as the raw text the SDK hands the handler.
pub fn event(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("test events are valid JSON")
}

/// The production handler, targeting [`PROCESSOR`].
pub fn handler(
    event: Box<RawValue>,
    ctx: DurableContext,
) -> impl Future<Output = Result<Box<RawValue>, BoxError>> + Send {
    orchestrator::workflow::handle(event, ctx, PROCESSOR.to_owned())
}

/// Log lines the code under test wrote on the current thread, as JSON lines
/// like the ones Lambda stores with `AWS_LAMBDA_LOG_FORMAT=JSON`.
///
/// One process-wide subscriber writes each event into a buffer owned by the
/// emitting thread. A per-test scoped subscriber (`set_default`) would race
/// with tests running in parallel over `tracing`'s global callsite interest
/// cache and could miss events; the tests run the handler on their own
/// (current-thread) runtime, so the thread's buffer holds exactly their logs.
pub struct Logs {
    thread: std::thread::ThreadId,
}

thread_local! {
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Logs {
    /// Installs the process-wide subscriber (once) and empties this
    /// thread's buffer. Call it first in every test of a binary that
    /// reads logs, so no event is seen before the subscriber exists.
    pub fn capture() -> Self {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let layer = tracing_subscriber::fmt::layer().json().with_writer(|| ThreadBuffer);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in the test binary");
        });
        BUFFER.with(|buffer| buffer.borrow_mut().clear());
        Self { thread: std::thread::current().id() }
    }

    /// Everything this thread logged since [`Logs::capture`].
    pub fn text(&self) -> String {
        assert_eq!(
            std::thread::current().id(),
            self.thread,
            "logs are per thread: read them on the thread that captured them"
        );
        BUFFER.with(|buffer| String::from_utf8_lossy(&buffer.borrow()).into_owned())
    }

    /// How many captured lines carry `message`.
    pub fn count(&self, message: &str) -> usize {
        let needle = format!("\"message\":\"{message}\"");
        self.text().lines().filter(|line| line.contains(&needle)).count()
    }
}

/// Appends to the emitting thread's buffer.
struct ThreadBuffer;

impl std::io::Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BUFFER.with(|buffer| buffer.borrow_mut().extend_from_slice(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
