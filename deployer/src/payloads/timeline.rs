//! An execution's history as rows: each operation (step, chained invoke, wait, callback, context) where it first
//! appears, with its latest state, and each completed invocation of the function where it ended, so a reader sees
//! where the execution suspended and resumed.

use serde::Serialize;

use super::executions::{ErrorInfo, HistoryEvent, Timestamp};

/// One row of an execution's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "row", rename_all = "snake_case")]
pub(crate) enum Row {
    /// An operation the handler ran.
    Operation(OperationRow),
    /// An invocation of the durable function that completed.
    Invocation(InvocationRow),
}

/// One operation and its latest state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct OperationRow {
    /// The operation id the SDK derived.
    pub id: String,
    /// The name the handler gave it.
    pub name: Option<String>,
    /// `step`, `chained_invoke`, `wait`, `callback` or `context`.
    pub kind: String,
    /// `STARTED`, `PENDING` (a step waiting to retry), `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `STOPPED`, `CANCELLED`.
    pub status: String,
    /// The step's attempt (steps only).
    pub attempt: Option<i32>,
    /// When it started.
    pub started: Option<Timestamp>,
    /// When it ended.
    pub ended: Option<Timestamp>,
    /// How long it took, when it ended.
    pub duration_ms: Option<i64>,
    /// The enclosing context operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The function a chained invoke calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// A chained invoke's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Whether the service stored only the start of the result or error shown (its `Truncated` flag).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Seconds a wait lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<i32>,
    /// A callback's id, for `SendDurableExecutionCallbackSuccess`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
}

/// How an invocation of the durable function ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum InvocationOutcome {
    /// It returned with work pending; a later invocation resumed the execution.
    Suspended,
    /// It was the last: the execution ended with it.
    Completed,
    /// The invocation failed; the service retries it.
    Failed,
}

impl InvocationOutcome {
    /// `SUSPENDED`, `COMPLETED`, `FAILED`: the status column.
    pub(crate) fn as_status(self) -> &'static str {
        match self {
            Self::Suspended => "SUSPENDED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

/// One completed invocation of the durable function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct InvocationRow {
    /// 1 for the first invocation.
    pub number: usize,
    /// When it started, when the service says.
    pub started: Option<Timestamp>,
    /// When it ended.
    pub ended: Option<Timestamp>,
    /// How long it ran, when both ends are known.
    pub duration_ms: Option<i64>,
    /// The Lambda request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Whether the execution suspended or ended with it.
    pub outcome: InvocationOutcome,
    /// Its error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

/// Operation kinds by event-type prefix (`ChainedInvoke` before shorter prefixes).
const KINDS: [(&str, &str); 5] = [
    ("ChainedInvoke", "chained_invoke"),
    ("Step", "step"),
    ("Wait", "wait"),
    ("Callback", "callback"),
    ("Context", "context"),
];

/// Splits an operation event type: `StepSucceeded` → (`step`, `SUCCEEDED`). `None` for execution and invocation
/// events.
pub(crate) fn operation_event(event_type: &str) -> Option<(&'static str, String)> {
    KINDS.iter().find_map(|(prefix, kind)| event_type.strip_prefix(prefix).map(|phase| (*kind, screaming(phase))))
}

/// `TimedOut` → `TIMED_OUT`.
fn screaming(phase: &str) -> String {
    let mut out = String::new();
    for (i, c) in phase.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Builds the rows from the history (in event order). `execution_done` tells whether the last invocation ended
/// the execution.
pub(crate) fn timeline(events: &[HistoryEvent], execution_done: bool) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut invocations = 0;
    for (index, event) in events.iter().enumerate() {
        if event.event_type == "InvocationCompleted" {
            invocations += 1;
            let later_work = events.iter().skip(index + 1).any(|e| operation_event(&e.event_type).is_some());
            rows.push(Row::Invocation(invocation(event, invocations, later_work, execution_done)));
            continue;
        }
        let Some((kind, status)) = operation_event(&event.event_type) else { continue };
        let id = event.operation_id.clone().unwrap_or_else(|| format!("event-{}", event.id));
        let existing = rows.iter_mut().find_map(|row| match row {
            Row::Operation(op) if op.id == id => Some(op),
            _ => None,
        });
        if let Some(op) = existing {
            update(op, event, status);
        } else {
            let mut op = OperationRow {
                id,
                name: event.name.clone(),
                kind: kind.to_owned(),
                status: String::new(),
                attempt: None,
                started: event.at,
                ended: None,
                duration_ms: None,
                parent_id: event.parent_id.clone(),
                target: None,
                input: None,
                result: None,
                error: None,
                truncated: false,
                wait_seconds: None,
                callback_id: None,
            };
            update(&mut op, event, status);
            rows.push(Row::Operation(op));
        }
    }
    rows
}

fn update(op: &mut OperationRow, event: &HistoryEvent, status: String) {
    if op.kind == "step" && status == "STARTED" {
        op.attempt = Some(op.attempt.unwrap_or(0) + 1);
        op.error = None;
    }
    if let Some(attempt) = event.attempt {
        op.attempt = Some(op.attempt.map_or(attempt, |a| a.max(attempt)));
    }
    let retrying = status == "FAILED" && event.next_attempt_delay_seconds.is_some_and(|d| d > 0);
    op.status = if retrying { "PENDING".to_owned() } else { status };
    op.name = op.name.take().or_else(|| event.name.clone());
    op.target = event.target.clone().or(op.target.take());
    op.input = event.input.clone().or(op.input.take());
    if event.result.is_some() || event.error.is_some() {
        op.truncated = event.truncated;
    }
    op.result = event.result.clone().or(op.result.take());
    op.error = event.error.clone().or(op.error.take());
    op.wait_seconds = event.wait_seconds.or(op.wait_seconds);
    op.callback_id = event.callback_id.clone().or(op.callback_id.take());
    let done = !matches!(op.status.as_str(), "STARTED" | "PENDING");
    op.ended = if done { event.at } else { None };
    op.duration_ms = op.started.and_then(|start| start.until(op.ended));
}

fn invocation(event: &HistoryEvent, number: usize, later_work: bool, execution_done: bool) -> InvocationRow {
    let times = event.invocation.as_ref();
    let started = times.and_then(|t| t.started);
    let ended = times.and_then(|t| t.ended).or(event.at);
    let outcome = if event.error.is_some() {
        InvocationOutcome::Failed
    } else if later_work || !execution_done {
        InvocationOutcome::Suspended
    } else {
        InvocationOutcome::Completed
    };
    InvocationRow {
        number,
        started,
        ended,
        duration_ms: started.and_then(|s| s.until(ended)),
        request_id: times.and_then(|t| t.request_id.clone()),
        outcome,
        error: event.error.clone(),
    }
}
