//! The plugin suite (10-x), as far as the Rust SDK has the concept.
//!
//! `aws-durable-execution-sdk` 0.1.0 has no plugin API: nothing registers hooks (`Options` holds only an SDK
//! config, a Lambda client and checkpoint tuning, `src/options.rs:63-76`), and nothing calls user code at
//! invocation start or end or isolates failures of such code. Its instrumentation is a documented `tracing`
//! contract (`src/observability.rs`): an execution span per invocation, an operation span per live step
//! attempt (with `operationId` and `attempt`), and `DEBUG` lifecycle events on the target
//! `aws_durable_execution_sdk::lifecycle` for operation start, success, failure and retry, and for an invocation
//! starting (`execution_started`), resuming (`execution_resumed`) or suspending (`execution_suspended`).
//!
//! [`LifecycleProbe`] is the closest thing to a plugin the SDK allows: a `tracing` layer, registered with the
//! subscriber, that turns those spans and events into the requirements' hook records. It covers the operation
//! hooks (10-2) and the attempt hooks (10-3). The other requirements need what the contract lacks, and the
//! conformance stacks declare them not applicable with that reason: an invocation-end hook carrying the
//! execution's terminal status (10-1, 10-5, 10-6, 10-7: the only invocation-end event is
//! `execution_suspended`, `src/observability.rs:82,224`), and hooks whose exceptions the SDK catches (10-4: a
//! `tracing` layer is not called by the SDK and cannot raise into it).

use aws_durable_execution_sdk::observability::{TARGET, event_names, field_names, span_names};
use aws_durable_execution_sdk::{BoxError, DurableContext};
use serde_json::{Map, Value, json};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::logging::{Fields, write_line};
use crate::support::{Entry, durable, greet, retry_every_second, text};

/// The suite's handlers by requirement id (the requirements the SDK can express).
pub const HANDLERS: &[Entry] = &[("10-2", durable!(operation_hooks)), ("10-3", durable!(attempt_hooks))];

/// The handlers that run with [`LifecycleProbe`] installed.
pub const PROBED: &[&str] = &["10-2", "10-3"];

/// The `plugin` field of every record the probe writes.
pub const PLUGIN_NAME: &str = "CONFPLUGIN";

/// 10-2: one step greets the input; the probe reports the step's start and terminal end.
pub async fn operation_hooks(event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let name = text(&event);
    let greeting = ctx.step(move |_| async move { Ok(greet(&name)) }).await?;
    Ok(Value::String(greeting))
}

/// 10-3: a step fails its first attempt and succeeds when retried a second later; the probe reports each
/// attempt's start and end.
pub async fn attempt_hooks(_event: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let value = ctx
        .step(|step| async move {
            if step.attempt() == 1 {
                Err(crate::support::fail("first attempt fails"))
            } else {
                Ok("Operation succeeded".to_owned())
            }
        })
        .retry_strategy(retry_every_second(3))
        .await?;
    Ok(Value::String(value))
}

/// A `tracing` layer writing the plugin suite's hook records from the SDK's spans and lifecycle events.
///
/// Records are flat JSON lines on standard output: `timestamp`, `plugin`, `hook`, the hook's fields (`first`,
/// `op`, `status`, `n`, `outcome`) and `durableExecutionArn`, the field the validator's execution-scoped log retrieval matches.
/// Operation and attempt hooks are limited to step operations (type `Step`, sub-type `Step`), as the
/// requirements' plugins filter them.
#[derive(Debug, Clone, Copy, Default)]
pub struct LifecycleProbe;

impl LifecycleProbe {
    /// Writes one hook record.
    fn emit(hook: &str, arn: Option<&Value>, extra: &[(&str, Value)]) {
        let mut record = Map::new();
        // Every line the binary writes is stamped, so that log readers can place it in time.
        record.insert("timestamp".into(), json!(crate::logging::timestamp()));
        record.insert("plugin".into(), json!(PLUGIN_NAME));
        record.insert("hook".into(), json!(hook));
        for (key, value) in extra {
            record.insert((*key).to_owned(), value.clone());
        }
        if let Some(arn) = arn {
            record.insert("durableExecutionArn".into(), arn.clone());
        }
        write_line(&Value::Object(record));
    }
}

/// Whether a lifecycle event describes a step (not a wait-for-condition poll, which is a step on the wire).
fn is_step(fields: &Map<String, Value>) -> bool {
    let sub_type = fields.get(field_names::OPERATION_SUB_TYPE).and_then(Value::as_str);
    fields.get(field_names::OPERATION_TYPE).and_then(Value::as_str) == Some("Step")
        && matches!(sub_type, None | Some("Step"))
}

impl<S> Layer<S> for LifecycleProbe
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        // The SDK opens the operation span right before it runs a step body: that is the attempt's start. (A
        // span is entered at every poll of the body's future, so entering it would repeat the hook.)
        if attrs.metadata().name() != span_names::OPERATION {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let fields = fields.0;
        Self::emit(
            "attempt-start",
            fields.get(field_names::EXECUTION_ARN),
            &[
                ("n", fields.get(field_names::ATTEMPT).cloned().unwrap_or(Value::Null)),
                ("op", fields.get(field_names::OPERATION_ID).cloned().unwrap_or(Value::Null)),
            ],
        );
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let fields = fields.0;
        let arn = fields.get(field_names::EXECUTION_ARN);
        let op = fields.get(field_names::OPERATION_ID).cloned().unwrap_or(Value::Null);
        let attempt = fields.get(field_names::ATTEMPT).cloned().unwrap_or(Value::Null);
        match fields.get("message").and_then(Value::as_str) {
            Some(event_names::EXECUTION_STARTED) => Self::emit("invocation-start", arn, &[("first", json!(true))]),
            Some(event_names::EXECUTION_RESUMED) => Self::emit("invocation-start", arn, &[("first", json!(false))]),
            Some(event_names::OPERATION_STARTED) if is_step(&fields) => {
                Self::emit("operation-start", arn, &[("op", op)]);
            }
            Some(event_names::OPERATION_RETRY_SCHEDULED) if is_step(&fields) => {
                Self::emit("attempt-end", arn, &[("n", attempt), ("outcome", json!("FAILED")), ("op", op)]);
            }
            Some(name @ (event_names::OPERATION_SUCCEEDED | event_names::OPERATION_FAILED)) if is_step(&fields) => {
                let status = if name == event_names::OPERATION_SUCCEEDED { "SUCCEEDED" } else { "FAILED" };
                Self::emit("attempt-end", arn, &[("n", attempt), ("outcome", json!(status)), ("op", op.clone())]);
                Self::emit("operation-end", arn, &[("op", op), ("status", json!(status))]);
            }
            _ => {}
        }
    }
}
