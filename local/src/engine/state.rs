//! The engine's state as its decisions see it: an execution's row ([`ExecutionRecord`]), the part of its
//! operations, timers and queued completions a command loaded ([`ExecutionState`]), and the [`Change`]s a decision
//! asks the store to make. The store reads and writes these; the decisions never touch the store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{ErrorObject, Event, ExecutionStatus, Operation};

/// Bookkeeping of an execution's handler invocations and checkpoints, kept as JSON in its row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// The token the current invocation must checkpoint with; `None` between invocations.
    pub token: Option<String>,
    /// Invocations started so far.
    pub invocation: u64,
    /// Whether a handler invocation is in flight (or decided and about to start).
    pub invoking: bool,
    /// When the invocation in flight started (epoch ms).
    pub invocation_started_ms: i64,
    /// The request id of the invocation in flight.
    pub request_id: String,
    /// Handler invocations that failed in a row (crash, timeout, unreadable answer).
    pub failures: u32,
    /// Counter stamping operation changes, so a checkpoint answers with what changed since the handler looked.
    pub op_seq: u64,
    /// The last `op_seq` the handler was told about.
    pub seen_seq: u64,
    /// Events recorded so far (the next event id is this plus one).
    pub events: i64,
    /// The last checkpoint's request and answer, for a client retrying a request whose answer it lost.
    pub last_checkpoint: Option<CachedCheckpoint>,
    /// The execution and operation that started this one as a chained invoke.
    pub parent: Option<ParentLink>,
    /// An outcome the handler checkpointed on the EXECUTION operation, applied when its invocation ends.
    pub checkpointed_outcome: Option<EndResult>,
    /// Heartbeat timeouts (seconds) of open callbacks, by operation id: a heartbeat re-arms its timer.
    #[serde(default)]
    pub heartbeats: std::collections::BTreeMap<String, i64>,
    /// Child executions started by `CHAINED_INVOKE` operations of durable targets, by operation id.
    #[serde(default)]
    pub children: std::collections::BTreeMap<String, String>,
    /// Plain functions invoked by `CHAINED_INVOKE` operations that have not reported yet, by operation id: issued
    /// again after a crash.
    #[serde(default)]
    pub targets: std::collections::BTreeMap<String, PendingTarget>,
}

/// A chained invoke of a plain function in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTarget {
    /// Bare function name.
    pub function_name: String,
    /// Version or `$LATEST`.
    pub qualifier: String,
    /// The payload.
    pub payload: Option<String>,
    /// Tenant id.
    pub tenant_id: Option<String>,
}

/// A checkpoint answer kept for an identical retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedCheckpoint {
    /// The token the request carried.
    pub token_in: String,
    /// SHA-256 of the request's updates and client token.
    pub request_hash: String,
    /// The token it was answered with.
    pub token_out: String,
    /// The operations it was answered with.
    pub operations: Vec<Operation>,
}

/// The parent of a chained-invoke child execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    /// The parent execution's ARN.
    pub execution: String,
    /// The `CHAINED_INVOKE` operation waiting for this execution.
    pub operation: String,
}

/// How an execution (or an operation) ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndResult {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
}

/// One execution's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// Row key.
    pub key: i64,
    /// Execution ARN.
    pub arn: String,
    /// Bare function name.
    pub function_name: String,
    /// Version or `$LATEST` it runs on.
    pub qualifier: String,
    /// Unqualified function ARN.
    pub function_arn: String,
    /// Execution name.
    pub name: String,
    /// Status.
    pub status: ExecutionStatus,
    /// Input payload text.
    pub input: String,
    /// SHA-256 of the input, for idempotent starts.
    pub input_hash: String,
    /// Result text.
    pub result: Option<String>,
    /// Error.
    pub error: Option<ErrorObject>,
    /// Start (epoch ms).
    pub started_ms: i64,
    /// End (epoch ms).
    pub ended_ms: Option<i64>,
    /// `DurableConfig.ExecutionTimeout`.
    pub timeout_s: i64,
    /// `DurableConfig.RetentionPeriodInDays`.
    pub retention_days: i64,
    /// Invocation bookkeeping.
    pub run: RunState,
}

/// A completion queued while the handler ran, applied when its invocation ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Completion {
    /// A chained invoke's target ended.
    Target {
        /// The `CHAINED_INVOKE` operation.
        operation: String,
        /// How the target ended.
        outcome: TargetEnd,
    },
    /// An operation's timer fired.
    Timer {
        /// The timer's name.
        name: String,
    },
}

/// How a chained invoke's target ended, as queued in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum TargetEnd {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
    /// It ran out of time.
    TimedOut(ErrorObject),
    /// It was stopped.
    Stopped(ErrorObject),
}

/// One stored operation with the value of the execution's change counter ([`RunState::op_seq`]) it was last
/// written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredOperation {
    /// The operation.
    pub op: Operation,
    /// When it last changed.
    pub seq: u64,
}

/// What one command loaded of an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExecutionState {
    /// Its row.
    pub record: ExecutionRecord,
    /// Its operations in the order they were first recorded: all of them, or the ones the command can touch.
    pub operations: Vec<StoredOperation>,
    /// Whether `operations` holds every operation (a decision that scans them needs this).
    pub all_operations: bool,
    /// Its armed timers by name: when each fires (epoch ms).
    pub timers: BTreeMap<String, i64>,
    /// Completions queued while its handler runs, oldest first.
    pub inbox: Vec<Completion>,
}

impl ExecutionState {
    /// An execution with nothing but its row loaded (a start sees so much of the execution holding its name).
    pub(super) fn bare(record: ExecutionRecord) -> Self {
        Self { record, operations: Vec::new(), all_operations: false, timers: BTreeMap::new(), inbox: Vec::new() }
    }
}

/// Which operations a command loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum OperationsNeeded {
    /// Every one.
    All,
    /// These (by id; missing ones are simply not there), and those changed after the counter value given.
    Some {
        /// Operation ids.
        ids: Vec<String>,
        /// Also every operation changed after this value of the change counter.
        changed_after: Option<u64>,
    },
}

/// One change a decision asks the store to make, in order, in the command's transaction.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Change {
    /// Insert a new execution's row (first, so the rest can refer to it).
    NewExecution(Box<ExecutionRecord>),
    /// Write back the execution's row.
    Execution(Box<ExecutionRecord>),
    /// Insert or replace an operation, stamped with the change counter.
    Operation(Box<StoredOperation>),
    /// Append a history event.
    Event(Box<Event>),
    /// Arm (or re-arm) a timer.
    ArmTimer {
        /// Its name.
        name: String,
        /// When it fires (epoch ms).
        at_ms: i64,
    },
    /// Disarm a timer.
    DisarmTimer {
        /// Its name.
        name: String,
    },
    /// Queue a completion until the handler's invocation ends.
    Queue(Completion),
    /// Empty the queue of completions.
    ClearInbox,
}
