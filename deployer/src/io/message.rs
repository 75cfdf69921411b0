//! The events the deployer reports, each with a stable code, a level and a one-line text.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::durable;

/// How an event is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Progress, on stderr.
    Info,
    /// Something the user should look at, on stderr.
    Warn,
    /// The answer the command was run for, on stdout.
    Result,
}

/// Something that happened. Serialized as-is for `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A pipeline stage starts.
    Stage {
        /// `build`, `package`, `publish`, `deploy`, `destroy`, `local`.
        stage: String,
        /// What it does.
        message: String,
    },
    /// A free-form progress line.
    Info {
        /// What happened.
        message: String,
    },
    /// Something that deserves attention but does not stop the command.
    Warning {
        /// What happened and what to do.
        message: String,
    },
    /// A function binary was packaged.
    AssetPackaged {
        /// The asset's construct path.
        asset: String,
        /// The zip's path.
        path: String,
        /// The zip's size in bytes.
        bytes: u64,
        /// Lowercase hex SHA-256 of the zip.
        sha256: String,
    },
    /// An asset was uploaded.
    AssetUploaded {
        /// Object key.
        key: String,
        /// Bucket.
        bucket: String,
        /// Bytes sent.
        bytes: u64,
    },
    /// An asset was already in the bucket.
    AssetSkipped {
        /// Object key.
        key: String,
        /// Bucket.
        bucket: String,
    },
    /// A stack is already as wanted.
    NoChanges {
        /// Stack name.
        stack: String,
    },
    /// A change set was created and will be executed.
    ChangeSet {
        /// Stack name.
        stack: String,
        /// Change set name.
        change_set: String,
        /// One line per resource change: `Add AWS::Lambda::Function Processor`.
        changes: Vec<String>,
    },
    /// One CloudFormation stack event.
    StackEvent {
        /// Stack name.
        stack: String,
        /// When it happened (RFC 3339).
        timestamp: String,
        /// Logical id of the resource.
        logical_id: String,
        /// Resource type.
        resource_type: String,
        /// Resource status.
        status: String,
        /// Status reason, if any.
        reason: Option<String>,
    },
    /// Progress over a stack operation.
    Progress {
        /// Stack name.
        stack: String,
        /// Resources in a final state.
        done: usize,
        /// Resources in the operation.
        total: usize,
        /// Logical ids still in progress.
        in_progress: Vec<String>,
    },
    /// A stack operation ended.
    StackDone {
        /// Stack name.
        stack: String,
        /// Final status.
        status: String,
        /// Seconds the operation took.
        seconds: f64,
    },
    /// The resources that failed, root cause first.
    FailureRecap {
        /// Stack name.
        stack: String,
        /// `(logical id, status, reason)` in causal order.
        failures: Vec<(String, String, String)>,
    },
    /// The stack's outputs.
    Outputs {
        /// Stack name.
        stack: String,
        /// Output key to value.
        outputs: BTreeMap<String, String>,
    },
    /// A template was written.
    TemplateWritten {
        /// Stack name.
        stack: String,
        /// Where.
        path: String,
    },
    /// Nothing to delete.
    NothingToDelete {
        /// Stack name.
        stack: String,
    },
    /// A result value (invoke output, diff text).
    Value {
        /// What it is.
        kind: String,
        /// The text itself.
        text: String,
    },
    /// Durable executions of a function, newest first.
    Executions {
        /// The function's name.
        function: String,
        /// The status filter, empty for all.
        statuses: Vec<String>,
        /// The executions.
        executions: Vec<crate::durable::ExecutionSummary>,
    },
    /// One durable execution: its state, then its operations and invocations in order.
    History {
        /// The execution.
        execution: crate::durable::ExecutionDetail,
        /// Its timeline.
        rows: Vec<crate::durable::Row>,
    },
    /// Something happened in a durable execution being followed.
    ExecutionActivity {
        /// The execution's ARN.
        execution: String,
        /// The history event.
        activity: crate::durable::HistoryEvent,
    },
    /// A durable execution was started without waiting for it.
    ExecutionStarted {
        /// The execution's ARN.
        execution: String,
        /// Its name, when one was given.
        name: Option<String>,
    },
    /// A callback was completed (or kept alive).
    CallbackSent {
        /// The callback's id.
        callback_id: String,
        /// `succeed`, `fail` or `heartbeat`.
        action: String,
    },
    /// A durable execution was stopped.
    ExecutionStopped {
        /// The execution's ARN.
        execution: String,
        /// When the service stopped it.
        stopped_at: Option<crate::durable::Timestamp>,
    },
}

impl Event {
    /// The event's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Stage { .. } => "DEPLOYER_I0001",
            Self::Info { .. } => "DEPLOYER_I0002",
            Self::Warning { .. } => "DEPLOYER_W0003",
            Self::AssetPackaged { .. } => "DEPLOYER_I1001",
            Self::AssetUploaded { .. } => "DEPLOYER_I2001",
            Self::AssetSkipped { .. } => "DEPLOYER_I2002",
            Self::NoChanges { .. } => "DEPLOYER_I3001",
            Self::ChangeSet { .. } => "DEPLOYER_I3002",
            Self::StackEvent { .. } => "DEPLOYER_I4001",
            Self::Progress { .. } => "DEPLOYER_I4002",
            Self::StackDone { .. } => "DEPLOYER_I4003",
            Self::FailureRecap { .. } => "DEPLOYER_E4004",
            Self::Outputs { .. } => "DEPLOYER_R5001",
            Self::TemplateWritten { .. } => "DEPLOYER_R5002",
            Self::NothingToDelete { .. } => "DEPLOYER_I3003",
            Self::Value { .. } => "DEPLOYER_R5003",
            Self::Executions { .. } => "DEPLOYER_R6001",
            Self::History { .. } => "DEPLOYER_R6002",
            Self::ExecutionActivity { .. } => "DEPLOYER_I6003",
            Self::ExecutionStarted { .. } => "DEPLOYER_R6004",
            Self::ExecutionStopped { .. } => "DEPLOYER_R6005",
            Self::CallbackSent { .. } => "DEPLOYER_R6006",
        }
    }

    /// How it is shown.
    pub fn level(&self) -> Level {
        match self {
            Self::Warning { .. } | Self::FailureRecap { .. } => Level::Warn,
            Self::Outputs { .. }
            | Self::TemplateWritten { .. }
            | Self::Value { .. }
            | Self::Executions { .. }
            | Self::History { .. }
            | Self::ExecutionStarted { .. }
            | Self::ExecutionStopped { .. }
            | Self::CallbackSent { .. } => Level::Result,
            _ => Level::Info,
        }
    }

    /// The event as prose, one or more lines.
    pub fn text(&self) -> String {
        match self {
            Self::Stage { stage, message } => format!("{stage}: {message}"),
            Self::Info { message } => message.clone(),
            Self::Warning { message } => format!("warning: {message}"),
            Self::AssetPackaged { asset, path, bytes, sha256 } => {
                format!("packaged {asset}: {path} ({bytes} bytes, sha256 {})", short(sha256))
            }
            Self::AssetUploaded { key, bucket, bytes } => format!("uploaded s3://{bucket}/{key} ({bytes} bytes)"),
            Self::AssetSkipped { key, bucket } => format!("s3://{bucket}/{key} already published, not uploaded"),
            Self::NoChanges { stack } => format!("{stack}: no changes"),
            Self::ChangeSet { stack, change_set, changes } => {
                let mut text = format!("{stack}: change set {change_set} with {} change(s)", changes.len());
                for change in changes {
                    text.push_str("\n  ");
                    text.push_str(change);
                }
                text
            }
            Self::StackEvent { stack, logical_id, resource_type, status, reason, .. } => {
                let mut text = format!("{stack} | {status} | {resource_type} | {logical_id}");
                if let Some(reason) = reason.as_deref().filter(|r| !r.is_empty()) {
                    text.push_str(" | ");
                    text.push_str(reason);
                }
                text
            }
            Self::Progress { stack, done, total, in_progress } => {
                format!("{stack}: {done}/{total} resources done; in progress: {}", in_progress.join(", "))
            }
            Self::StackDone { stack, status, seconds } => format!("{stack}: {status} in {seconds:.1}s"),
            Self::FailureRecap { stack, failures } => {
                let lines: Vec<String> =
                    failures.iter().map(|(id, status, reason)| format!("\n  {id} {status}: {reason}")).collect();
                format!("{stack}: the deployment failed; failed resources, root cause first:{}", lines.concat())
            }
            Self::Outputs { stack, outputs } if outputs.is_empty() => format!("{stack}: the stack reports no outputs"),
            Self::Outputs { stack, outputs } => {
                let lines: Vec<String> = outputs.iter().map(|(key, value)| format!("\n{key} = {value}")).collect();
                format!("Outputs of {stack}:{}", lines.concat())
            }
            Self::TemplateWritten { stack, path } => format!("{stack}: {path}"),
            Self::NothingToDelete { stack } => format!("{stack}: does not exist, nothing to delete"),
            Self::Value { text, .. } => text.clone(),
            // Tables go to stdout: colours and truncated cells only when it is a terminal.
            Self::Executions { function, statuses, executions } => {
                durable::render::executions(function, statuses, executions, durable::render::Style::for_stdout())
            }
            Self::History { execution, rows } => {
                durable::render::history(execution, rows, durable::render::Style::for_stdout())
            }
            Self::ExecutionActivity { activity, .. } => durable::render::activity(activity),
            Self::ExecutionStarted { execution, .. } => execution.clone(),
            Self::CallbackSent { callback_id, action } => match action.as_str() {
                "succeed" => format!("callback {callback_id} succeeded"),
                "fail" => format!("callback {callback_id} failed"),
                _ => format!("callback {callback_id}: heartbeat sent"),
            },
            Self::ExecutionStopped { execution, stopped_at } => match stopped_at {
                Some(at) => format!("stopped {execution} at {}", at.rfc3339()),
                None => format!("stopped {execution}"),
            },
        }
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
