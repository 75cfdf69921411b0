//! Event sources of Lambda functions, as CDK's `aws-lambda-event-sources`: [`SqsEventSource`] makes the
//! `AWS::Lambda::EventSourceMapping` that has Lambda poll a queue and invoke a function (or its alias) with batches
//! of messages, and gives the function's role what consuming the queue needs.
//!
//! A durable function is invoked only through a qualified ARN, so it is its alias that consumes the queue; an event
//! source mapping invokes it synchronously, so its whole execution must end within 15 minutes.
//!
//! ```
//! use constructs::event_sources::SqsEventSource;
//! use constructs::lambda::{Publish, RustFunction};
//! use constructs::resources::lambda::DurableConfig;
//! use constructs::sqs::Queue;
//! use constructs::{App, AssetManifest, Stack};
//!
//! let mut stack = Stack::new(&App::new(), "Orders")?;
//! let queue = stack.construct("Incoming", Queue::new().visibility_timeout_seconds(900))?;
//! let workflow = stack.construct("Workflow", RustFunction::new("workflow").durable(DurableConfig::new(900, 7)))?;
//!
//! // The durable function itself cannot consume the queue: only its alias can.
//! let error = stack.construct("Unqualified", SqsEventSource::new(&queue, &workflow)).unwrap_err().to_string();
//! assert!(error.contains("durable function") && error.contains("alias"));
//!
//! let live = workflow.publish(&mut stack, Publish::alias("live"))?;
//! stack.construct("IncomingOrders", SqsEventSource::new(&queue, &live).batch_size(1))?;
//! let template = stack.synth(&AssetManifest::placeholders(&stack.assets()))?.template;
//! let mapping = &template["Resources"]["IncomingOrders"]["Properties"];
//! assert_eq!(mapping["FunctionName"]["Ref"], "WorkflowLiveAlias");
//! assert_eq!(mapping["EventSourceArn"]["Fn::GetAtt"][0], "Incoming");
//! # Ok::<(), constructs::SynthError>(())
//! ```

use crate::construct::{Construct, Scope};
use crate::error::SynthError;
use crate::lambda::{Invocable, InvokeTarget};
use crate::reference::Reference;
use crate::resources::cfn::{CfnRef, CfnResource};
use crate::sqs::QueueRef;

/// The longest an event source mapping waits for a durable execution it started: longer executions fail.
pub const SYNCHRONOUS_EXECUTION_LIMIT_SECONDS: u32 = 900;
/// `BatchSize` range of a standard queue (a FIFO queue takes at most 10).
pub const BATCH_SIZE_RANGE: (u32, u32) = (1, 10_000);
/// `MaximumBatchingWindowInSeconds` range.
pub const BATCHING_WINDOW_RANGE: (u32, u32) = (0, 300);

/// An SQS queue as the event source of a function or of an alias: Lambda polls the queue and invokes the target
/// with up to `batch_size` messages (10 by default), deleting them when the invocation succeeds.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct SqsEventSource {
    queue: QueueRef,
    target: InvokeTarget,
    batch_size: u32,
    batching_window_seconds: Option<u32>,
    report_batch_item_failures: bool,
    enabled: bool,
}

impl SqsEventSource {
    /// `queue` triggers `target` (a plain function, or the alias or version of any function).
    pub fn new(queue: &QueueRef, target: &impl Invocable) -> Self {
        Self {
            queue: queue.clone(),
            target: InvokeTarget::of(target),
            batch_size: 10,
            batching_window_seconds: None,
            report_batch_item_failures: false,
            enabled: true,
        }
    }

    /// At most this many messages per invocation (above 10 needs a batching window).
    pub fn batch_size(mut self, messages: u32) -> Self {
        self.batch_size = messages;
        self
    }

    /// Waits up to this long to fill a batch (0..=300 s).
    pub fn max_batching_window_seconds(mut self, seconds: u32) -> Self {
        self.batching_window_seconds = Some(seconds);
        self
    }

    /// The function answers with the messages that failed (`batchItemFailures`), so only those come back.
    pub fn report_batch_item_failures(mut self) -> Self {
        self.report_batch_item_failures = true;
        self
    }

    /// Creates the mapping disabled: Lambda does not poll until it is enabled.
    pub fn disabled(mut self) -> Self {
        self.enabled = false;
        self
    }

    fn check(&self, path: &str) -> Result<(), SynthError> {
        self.target.check_invocable(path, "the event source mapping")?;
        let function = self.target.target_function();
        let name = function.function().handle().path();
        if let Some(execution) = function.execution_timeout_seconds()
            && execution > SYNCHRONOUS_EXECUTION_LIMIT_SECONDS
        {
            return Err(SynthError::invalid(
                path,
                format!(
                    "{name} is a durable function with an execution timeout of {execution} s, but an event source \
                     mapping invokes it synchronously and gives up after {SYNCHRONOUS_EXECUTION_LIMIT_SECONDS} s: \
                     set its DurableConfig ExecutionTimeout to at most {SYNCHRONOUS_EXECUTION_LIMIT_SECONDS} s, or \
                     let a plain function consume the queue and start the durable function asynchronously"
                ),
            ));
        }
        let busy = function.execution_timeout_seconds().unwrap_or(0).max(function.timeout_seconds());
        if self.queue.visibility_timeout_seconds() < busy {
            return Err(SynthError::invalid(
                path,
                format!(
                    "the queue {} hides a received message for {} s, less than the {busy} s {name} may take with it \
                     (another consumer would get it meanwhile): give the queue `.visibility_timeout_seconds({busy})` \
                     or more",
                    self.queue.handle().path(),
                    self.queue.visibility_timeout_seconds(),
                ),
            ));
        }
        let max = if self.queue.is_fifo() { 10 } else { BATCH_SIZE_RANGE.1 };
        SynthError::check_range(path, "BatchSize", self.batch_size.into(), BATCH_SIZE_RANGE.0.into(), max.into())?;
        if let Some(seconds) = self.batching_window_seconds {
            let (min, max) = BATCHING_WINDOW_RANGE;
            SynthError::check_range(path, "MaximumBatchingWindowInSeconds", seconds.into(), min.into(), max.into())?;
        }
        if self.batch_size > 10 && self.batching_window_seconds.unwrap_or(0) == 0 {
            return Err(SynthError::invalid(
                path,
                format!(
                    "a BatchSize of {} needs a batching window: add `.max_batching_window_seconds(1)` or more",
                    self.batch_size
                ),
            ));
        }
        Ok(())
    }
}

impl Construct for SqsEventSource {
    type Output = CfnRef;

    /// Adds the mapping `<id>` to `scope` and lets the target's function consume the queue.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<CfnRef, SynthError> {
        self.check(&format!("{}/{id}", scope.path()))?;
        self.queue.grant_consume(scope.stack(), self.target.target_function())?;
        let mut mapping = CfnResource::new("AWS::Lambda::EventSourceMapping")
            .set("EventSourceArn", self.queue.arn())
            .set("FunctionName", self.target.invoke_arn())
            .set("BatchSize", self.batch_size)
            .set("Enabled", self.enabled);
        if let Some(seconds) = self.batching_window_seconds {
            mapping = mapping.set("MaximumBatchingWindowInSeconds", seconds);
        }
        if self.report_batch_item_failures {
            mapping = mapping.set("FunctionResponseTypes", vec!["ReportBatchItemFailures"]);
        }
        scope.add(id, mapping)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::lambda::{Publish, RustFunction};
    use crate::resources::lambda::DurableConfig;
    use crate::sqs::Queue;
    use crate::{App, AssetManifest, Stack};

    #[test]
    fn the_target_s_role_may_consume_and_only_consume_the_queue() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let queue = stack.construct("Jobs", Queue::new()).unwrap();
        let worker = stack.construct("Worker", RustFunction::new("worker")).unwrap();
        stack.construct("JobsSource", SqsEventSource::new(&queue, &worker).report_batch_item_failures()).unwrap();
        let t = stack.synth(&AssetManifest::placeholders(&stack.assets())).unwrap().template;
        let mapping = &t["Resources"]["JobsSource"]["Properties"];
        assert_eq!(mapping["FunctionName"], json!({"Fn::GetAtt": ["Worker", "Arn"]}));
        assert_eq!(mapping["FunctionResponseTypes"], json!(["ReportBatchItemFailures"]));
        let statement = &t["Resources"]["WorkerRole"]["Properties"]["Policies"][1]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Sid"], "ConsumeJobs");
        assert_eq!(statement["Resource"], json!([{"Fn::GetAtt": ["Jobs", "Arn"]}]));
    }

    #[test]
    fn a_durable_target_must_be_qualified_finish_within_15_minutes_and_fit_the_visibility_timeout() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let short = stack.construct("Short", Queue::new()).unwrap();
        let long = stack.construct("Long", Queue::new().visibility_timeout_seconds(900)).unwrap();
        let day = stack.construct("Day", RustFunction::new("day").durable(DurableConfig::new(86_400, 1))).unwrap();
        let day_live = day.publish(&mut stack, Publish::alias("live")).unwrap();
        let error = stack.construct("M1", SqsEventSource::new(&long, &day_live)).unwrap_err().to_string();
        assert!(error.starts_with("S/M1: S/Day is a durable function with an execution timeout of 86400 s"), "{error}");
        let quick = stack.construct("Quick", RustFunction::new("quick").durable(DurableConfig::new(600, 1))).unwrap();
        let error = stack.construct("M2", SqsEventSource::new(&long, &quick)).unwrap_err().to_string();
        assert!(error.contains("unqualified ARN") && error.contains("target its alias"), "{error}");
        let quick_live = quick.publish(&mut stack, Publish::alias("live")).unwrap();
        let error = stack.construct("M3", SqsEventSource::new(&short, &quick_live)).unwrap_err().to_string();
        assert!(error.contains("hides a received message for 30 s, less than the 600 s"), "{error}");
        let error = stack.construct("M4", SqsEventSource::new(&long, &quick_live).batch_size(50)).unwrap_err();
        assert!(error.to_string().contains("needs a batching window"), "{error}");
        stack.construct("M5", SqsEventSource::new(&long, &quick_live)).unwrap();
    }
}
