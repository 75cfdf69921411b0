//! The durable execution API's data, as the service's REST-JSON protocol spells it (`PascalCase` members, enums in
//! upper snake case). Timestamps are epoch milliseconds in memory and in the store; the API layer renders them as
//! epoch seconds, the invocation envelope as epoch milliseconds.

use serde::{Deserialize, Serialize};

/// An error as the durable API carries it (`ErrorObject`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorObject {
    /// Human-readable message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Machine-readable type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// Extra data, as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_data: Option<String>,
    /// Stack frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<Vec<String>>,
}

impl ErrorObject {
    /// An error with a type and a message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self { error_type: Some(error_type.into()), error_message: Some(message.into()), ..Self::default() }
    }
}

/// `OperationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationType {
    /// The execution itself (always the first operation).
    Execution,
    /// A child context.
    Context,
    /// A step.
    Step,
    /// A timed wait.
    Wait,
    /// A callback an external system completes.
    Callback,
    /// An invoke of another function.
    ChainedInvoke,
}

/// `OperationStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    /// Running.
    Started,
    /// Waiting for a retry delay.
    Pending,
    /// Its retry delay elapsed: the handler may run it again.
    Ready,
    /// Ended with a result.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Cancelled by its parent or by a stop.
    Cancelled,
    /// Ran out of time.
    TimedOut,
    /// Stopped.
    Stopped,
}

impl OperationStatus {
    /// Whether the operation has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut | Self::Stopped)
    }
}

/// `OperationAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationAction {
    /// Begin an operation.
    Start,
    /// End it with a result.
    Succeed,
    /// End it with an error.
    Fail,
    /// Schedule another attempt (steps).
    Retry,
    /// Cancel it.
    Cancel,
}

/// `ExecutionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Not ended.
    Running,
    /// Ended with a result.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Its `ExecutionTimeout` elapsed.
    TimedOut,
    /// Stopped with `StopDurableExecution`.
    Stopped,
}

impl ExecutionStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Stopped => "STOPPED",
        }
    }

    /// Parses the API's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "RUNNING" => Self::Running,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "TIMED_OUT" => Self::TimedOut,
            "STOPPED" => Self::Stopped,
            _ => return None,
        })
    }
}

/// `ContextOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextOptions {
    /// Whether the handler must replay the children to rebuild the result.
    #[serde(default)]
    pub replay_children: Option<bool>,
}

/// `StepOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepOptions {
    /// Delay before the next attempt of a RETRY.
    #[serde(default)]
    pub next_attempt_delay_seconds: Option<i64>,
}

/// `WaitOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitOptions {
    /// How long to wait.
    #[serde(default)]
    pub wait_seconds: Option<i64>,
}

/// `CallbackOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackOptions {
    /// Time allowed for the callback to complete (0 or absent: none).
    #[serde(default)]
    pub timeout_seconds: Option<i64>,
    /// Time allowed between heartbeats (0 or absent: none).
    #[serde(default)]
    pub heartbeat_timeout_seconds: Option<i64>,
}

/// `ChainedInvokeOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeOptions {
    /// The function to invoke: name, ARN or partial ARN, optionally qualified.
    #[serde(default)]
    pub function_name: Option<String>,
    /// Tenant of a tenant-isolated function.
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// `OperationUpdate`: one change a handler checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationUpdate {
    /// Operation id (the SDK derives it from the call's position).
    pub id: String,
    /// Enclosing context's operation id.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// User-facing name.
    #[serde(default)]
    pub name: Option<String>,
    /// Kind of operation.
    #[serde(rename = "Type")]
    pub operation_type: OperationType,
    /// SDK-level kind (`Step`, `Wait`, `Map`, `ParallelBranch`, ...).
    #[serde(default)]
    pub sub_type: Option<String>,
    /// What to do.
    pub action: OperationAction,
    /// Result or input, as text.
    #[serde(default)]
    pub payload: Option<String>,
    /// Error of a FAIL or RETRY.
    #[serde(default)]
    pub error: Option<ErrorObject>,
    /// Context options.
    #[serde(default)]
    pub context_options: Option<ContextOptions>,
    /// Step options.
    #[serde(default)]
    pub step_options: Option<StepOptions>,
    /// Wait options.
    #[serde(default)]
    pub wait_options: Option<WaitOptions>,
    /// Callback options.
    #[serde(default)]
    pub callback_options: Option<CallbackOptions>,
    /// Chained invoke options.
    #[serde(default)]
    pub chained_invoke_options: Option<ChainedInvokeOptions>,
}

/// `ExecutionDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecutionDetails {
    /// The execution's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_payload: Option<String>,
}

/// `ContextDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContextDetails {
    /// Whether the handler must replay the children.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_children: Option<bool>,
    /// Result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// `StepDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepDetails {
    /// Attempts made so far.
    pub attempt: i64,
    /// When the next attempt is due (epoch ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_timestamp: Option<i64>,
    /// Result (or the state of a wait-for-condition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error of the last attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// `WaitDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WaitDetails {
    /// When the wait ends (epoch ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<i64>,
}

/// `CallbackDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallbackDetails {
    /// The id external systems complete it with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// Result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// `ChainedInvokeDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChainedInvokeDetails {
    /// The target's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The target's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// `Operation`: the stored state of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Operation {
    /// Operation id.
    pub id: String,
    /// Enclosing context's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// User-facing name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Kind.
    #[serde(rename = "Type")]
    pub operation_type: OperationType,
    /// SDK-level kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// When it started (epoch ms).
    pub start_timestamp: i64,
    /// When it ended (epoch ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<i64>,
    /// Status.
    pub status: OperationStatus,
    /// Execution details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_details: Option<ExecutionDetails>,
    /// Context details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_details: Option<ContextDetails>,
    /// Step details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_details: Option<StepDetails>,
    /// Wait details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_details: Option<WaitDetails>,
    /// Callback details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_details: Option<CallbackDetails>,
    /// Chained invoke details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chained_invoke_details: Option<ChainedInvokeDetails>,
}

impl Operation {
    /// A new operation of `update`'s identity, started at `now`.
    pub fn started(update: &OperationUpdate, status: OperationStatus, now: i64) -> Self {
        Self {
            id: update.id.clone(),
            parent_id: update.parent_id.clone(),
            name: update.name.clone(),
            operation_type: update.operation_type,
            sub_type: update.sub_type.clone(),
            start_timestamp: now,
            end_timestamp: None,
            status,
            execution_details: None,
            context_details: None,
            step_details: None,
            wait_details: None,
            callback_details: None,
            chained_invoke_details: None,
        }
    }
}

/// The history event types the service records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// `ExecutionStarted`.
    ExecutionStarted,
    /// `ExecutionSucceeded`.
    ExecutionSucceeded,
    /// `ExecutionFailed`.
    ExecutionFailed,
    /// `ExecutionTimedOut`.
    ExecutionTimedOut,
    /// `ExecutionStopped`.
    ExecutionStopped,
    /// `ContextStarted`.
    ContextStarted,
    /// `ContextSucceeded`.
    ContextSucceeded,
    /// `ContextFailed`.
    ContextFailed,
    /// `WaitStarted`.
    WaitStarted,
    /// `WaitSucceeded`.
    WaitSucceeded,
    /// `WaitCancelled`.
    WaitCancelled,
    /// `StepStarted`.
    StepStarted,
    /// `StepSucceeded`.
    StepSucceeded,
    /// `StepFailed`.
    StepFailed,
    /// `ChainedInvokeStarted`.
    ChainedInvokeStarted,
    /// `ChainedInvokeSucceeded`.
    ChainedInvokeSucceeded,
    /// `ChainedInvokeFailed`.
    ChainedInvokeFailed,
    /// `ChainedInvokeTimedOut`.
    ChainedInvokeTimedOut,
    /// `ChainedInvokeStopped`.
    ChainedInvokeStopped,
    /// `CallbackStarted`.
    CallbackStarted,
    /// `CallbackSucceeded`.
    CallbackSucceeded,
    /// `CallbackFailed`.
    CallbackFailed,
    /// `CallbackTimedOut`.
    CallbackTimedOut,
    /// `InvocationCompleted`.
    InvocationCompleted,
}

impl EventType {
    /// The member holding this event's details: `<EventType>Details`.
    pub fn details_key(self) -> String {
        format!("{self:?}Details")
    }
}

/// A payload as history events carry it (`EventInput` / `EventResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventPayload {
    /// The payload, unless the history was read without execution data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Whether the payload was cut to the service's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// An error as history events carry it (`EventError`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventError {
    /// The error, unless the history was read without execution data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<ErrorObject>,
    /// Whether it was cut to the service's limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// `RetryDetails` of a step attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryDetails {
    /// The attempt that ended.
    pub current_attempt: i64,
    /// Delay before the next attempt, when one is scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<i64>,
}

/// The details of one history event, one member per kind (the rest absent). Kept as JSON: the member's shape
/// depends on the event type and is written once, in [`super::history`].
pub type EventDetails = serde_json::Map<String, serde_json::Value>;

/// One history event (`Event`), with timestamps in epoch ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Event {
    /// Kind.
    pub event_type: EventType,
    /// SDK-level kind of the operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// 1, 2, ... in order.
    pub event_id: i64,
    /// Operation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Operation name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it happened (epoch ms).
    pub event_timestamp: i64,
    /// Enclosing context's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The `<EventType>Details` member.
    #[serde(flatten)]
    pub details: EventDetails,
}

/// What a durable handler invocation answered (the durable output envelope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HandlerOutput {
    /// `SUCCEEDED`, `FAILED` or `PENDING`.
    pub status: String,
    /// Result text of a SUCCEEDED execution (empty when checkpointed on the EXECUTION operation).
    #[serde(default)]
    pub result: Option<String>,
    /// Error of a FAILED execution.
    #[serde(default)]
    pub error: Option<ErrorObject>,
}
