//! An execution's history as typed operations: what the handler checkpointed, with the times the engine gave
//! them, read from the engine's store.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use local::engine::model::{self, OperationType};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::to_time;

/// Every operation of one execution, in the order they started (the execution itself first).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The operations.
    pub operations: Vec<Operation>,
}

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Its id (the SDK derives it from the call's position).
    pub id: String,
    /// The enclosing context's id.
    pub parent_id: Option<String>,
    /// The name the handler gave it.
    pub name: Option<String>,
    /// Where it stands.
    pub status: OperationStatus,
    /// When it started, by the app's clock.
    pub started: SystemTime,
    /// When it ended.
    pub ended: Option<SystemTime>,
    /// What kind it is, with the details of that kind.
    pub details: Details,
}

/// Where an operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum OperationStatus {
    /// Under way.
    Started,
    /// A step waiting for its next attempt.
    Pending,
    /// A step whose next attempt is due.
    Ready,
    /// Ended well.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Cancelled.
    Cancelled,
    /// Timed out.
    TimedOut,
    /// Stopped with its execution.
    Stopped,
}

/// An error as the history records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Its type (`InventoryBusy`, `Callback.Timeout`, ...).
    pub error_type: Option<String>,
    /// Its message.
    pub message: Option<String>,
}

/// The kind of an operation, with its details.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Details {
    /// The execution itself.
    Execution {
        /// Its input.
        input: Option<Value>,
    },
    /// A step.
    Step {
        /// The service's `Attempt`: how many attempts failed and were retried (0 for a step that succeeded at
        /// once; [`Operation::attempts`] counts the attempts made).
        attempt: u32,
        /// When the next attempt is due, while one is scheduled.
        next_attempt: Option<SystemTime>,
        /// Its result.
        result: Option<Value>,
        /// The last attempt's error.
        error: Option<Failure>,
    },
    /// A wait.
    Wait {
        /// When it ends (or ended), as the handler asked.
        until: Option<SystemTime>,
    },
    /// A callback.
    Callback {
        /// The id an external system answers it with.
        callback_id: Option<String>,
        /// The answer.
        result: Option<Value>,
        /// The failure, or the timeout.
        error: Option<Failure>,
    },
    /// A chained invoke of another function.
    ChainedInvoke {
        /// What the function returned.
        result: Option<Value>,
        /// How it failed.
        error: Option<Failure>,
    },
    /// A child context (`run_in_child_context`, `map`, `parallel`, `wait_for_callback`, ...).
    Context {
        /// The SDK's kind of context (`WaitForCallback`, `Map`, `ParallelBranch`, ...).
        sub_type: Option<String>,
        /// Its result.
        result: Option<Value>,
        /// Its error.
        error: Option<Failure>,
    },
}

fn payload(text: Option<&String>) -> Option<Value> {
    text.map(|text| serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())))
}

fn failure(error: Option<&model::ErrorObject>) -> Option<Failure> {
    error.map(|e| Failure { error_type: e.error_type.clone(), message: e.error_message.clone() })
}

impl From<&model::Operation> for Operation {
    fn from(op: &model::Operation) -> Self {
        let details = match op.operation_type {
            OperationType::Execution => Details::Execution {
                input: payload(op.execution_details.as_ref().and_then(|d| d.input_payload.as_ref())),
            },
            OperationType::Step => {
                let step = op.step_details.clone().unwrap_or_default();
                Details::Step {
                    attempt: u32::try_from(step.attempt).unwrap_or(0),
                    next_attempt: step.next_attempt_timestamp.map(to_time),
                    result: payload(step.result.as_ref()),
                    error: failure(step.error.as_ref()),
                }
            }
            OperationType::Wait => {
                Details::Wait { until: op.wait_details.as_ref().and_then(|w| w.scheduled_end_timestamp).map(to_time) }
            }
            OperationType::Callback => {
                let callback = op.callback_details.clone().unwrap_or_default();
                Details::Callback {
                    callback_id: callback.callback_id,
                    result: payload(callback.result.as_ref()),
                    error: failure(callback.error.as_ref()),
                }
            }
            OperationType::ChainedInvoke => {
                let invoke = op.chained_invoke_details.clone().unwrap_or_default();
                Details::ChainedInvoke {
                    result: payload(invoke.result.as_ref()),
                    error: failure(invoke.error.as_ref()),
                }
            }
            OperationType::Context => {
                let context = op.context_details.clone().unwrap_or_default();
                Details::Context {
                    sub_type: op.sub_type.clone(),
                    result: payload(context.result.as_ref()),
                    error: failure(context.error.as_ref()),
                }
            }
        };
        Self {
            id: op.id.clone(),
            parent_id: op.parent_id.clone(),
            name: op.name.clone(),
            status: status(op.status),
            started: to_time(op.start_timestamp),
            ended: op.end_timestamp.map(to_time),
            details,
        }
    }
}

fn status(status: model::OperationStatus) -> OperationStatus {
    match status {
        model::OperationStatus::Started => OperationStatus::Started,
        model::OperationStatus::Pending => OperationStatus::Pending,
        model::OperationStatus::Ready => OperationStatus::Ready,
        model::OperationStatus::Succeeded => OperationStatus::Succeeded,
        model::OperationStatus::Failed => OperationStatus::Failed,
        model::OperationStatus::Cancelled => OperationStatus::Cancelled,
        model::OperationStatus::TimedOut => OperationStatus::TimedOut,
        model::OperationStatus::Stopped => OperationStatus::Stopped,
    }
}

impl Operation {
    /// The kind's name: `EXECUTION`, `STEP`, `WAIT`, `CALLBACK`, `CHAINED_INVOKE` or `CONTEXT`.
    pub fn kind(&self) -> &'static str {
        match self.details {
            Details::Execution { .. } => "EXECUTION",
            Details::Step { .. } => "STEP",
            Details::Wait { .. } => "WAIT",
            Details::Callback { .. } => "CALLBACK",
            Details::ChainedInvoke { .. } => "CHAINED_INVOKE",
            Details::Context { .. } => "CONTEXT",
        }
    }

    /// How long it ran (or has run so far, by `now`).
    pub fn duration(&self, now: SystemTime) -> Duration {
        self.ended.unwrap_or(now).duration_since(self.started).unwrap_or_default()
    }

    /// The attempts a step made so far, the running one included (0 for other kinds): the retried ones, and one
    /// more unless the step waits for its next attempt.
    pub fn attempts(&self) -> u32 {
        match self.details {
            Details::Step { attempt, .. }
                if matches!(self.status, OperationStatus::Pending | OperationStatus::Ready) =>
            {
                attempt
            }
            Details::Step { attempt, .. } => attempt + 1,
            _ => 0,
        }
    }
}

impl History {
    /// The first operation named `name`.
    pub fn get(&self, name: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.name.as_deref() == Some(name))
    }

    /// The names of the top-level operations (those of the handler itself, not of child contexts), in order.
    pub fn names(&self) -> Vec<&str> {
        let root = self.operations.iter().find(|op| matches!(op.details, Details::Execution { .. })).map(|op| &op.id);
        self.operations
            .iter()
            .filter(|op| !matches!(op.details, Details::Execution { .. }))
            .filter(|op| op.parent_id.is_none() || op.parent_id.as_ref() == root)
            .filter_map(|op| op.name.as_deref())
            .collect()
    }

    /// The history as JSON with what changes from run to run taken out: operation ids become their position
    /// (`#1`), callback ids `[callback-id]`, and times are offsets from the execution's start (`+7d`, `+2s`,
    /// `+0ms`), so with the virtual clock a snapshot (`insta::assert_json_snapshot!`) is the same on every run.
    pub fn redacted(&self) -> Value {
        let start = self.operations.first().map_or(SystemTime::UNIX_EPOCH, |op| op.started);
        let position = |id: &str| {
            self.operations.iter().position(|op| op.id == id).map_or_else(|| "?".to_owned(), |i| format!("#{i}"))
        };
        let at = |time: SystemTime| offset(time.duration_since(start).unwrap_or_default());
        let operations: Vec<Value> = self
            .operations
            .iter()
            .map(|op| {
                let mut map = serde_json::Map::new();
                map.insert("id".into(), json!(position(&op.id)));
                map.insert("kind".into(), json!(op.kind()));
                map.insert("status".into(), json!(op.status));
                map.insert("started".into(), json!(at(op.started)));
                let map = &mut map;
                if let Some(parent) = &op.parent_id {
                    map.insert("parent".into(), json!(position(parent)));
                }
                if let Some(name) = &op.name {
                    map.insert("name".into(), json!(name));
                }
                if let Some(ended) = op.ended {
                    map.insert("ended".into(), json!(at(ended)));
                }
                match &op.details {
                    Details::Execution { input } => {
                        map.insert("input".into(), json!(input));
                    }
                    Details::Step { attempt, next_attempt, result, error } => {
                        map.insert("attempt".into(), json!(attempt));
                        if let Some(next) = next_attempt {
                            map.insert("nextAttempt".into(), json!(at(*next)));
                        }
                        insert_outcome(map, result.as_ref(), error.as_ref());
                    }
                    Details::Wait { until } => {
                        map.insert("until".into(), json!(until.map(at)));
                    }
                    Details::Callback { callback_id, result, error } => {
                        if callback_id.is_some() {
                            map.insert("callbackId".into(), json!("[callback-id]"));
                        }
                        insert_outcome(map, result.as_ref(), error.as_ref());
                    }
                    Details::ChainedInvoke { result, error } => insert_outcome(map, result.as_ref(), error.as_ref()),
                    Details::Context { sub_type, result, error } => {
                        if let Some(sub_type) = sub_type {
                            map.insert("subType".into(), json!(sub_type));
                        }
                        insert_outcome(map, result.as_ref(), error.as_ref());
                    }
                }
                Value::Object(std::mem::take(map))
            })
            .collect();
        Value::Array(operations)
    }
}

fn insert_outcome(map: &mut serde_json::Map<String, Value>, result: Option<&Value>, error: Option<&Failure>) {
    if let Some(result) = result {
        map.insert("result".into(), result.clone());
    }
    if let Some(error) = error {
        map.insert("error".into(), json!(error));
    }
}

/// `+7d`, `+1d2h`, `+2s`, `+1500ms`: the largest units that state it exactly.
fn offset(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "+0ms".into();
    }
    if !ms.is_multiple_of(1000) {
        return format!("+{ms}ms");
    }
    let mut s = ms / 1000;
    let mut text = String::from("+");
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if s >= size {
            let _ = write!(text, "{}{unit}", s / size);
            s %= size;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::offset;

    #[test]
    fn offsets_use_the_largest_exact_units() {
        assert_eq!(offset(Duration::ZERO), "+0ms");
        assert_eq!(offset(Duration::from_millis(1500)), "+1500ms");
        assert_eq!(offset(Duration::from_secs(2)), "+2s");
        assert_eq!(offset(Duration::from_hours(7 * 24)), "+7d");
        assert_eq!(offset(Duration::from_secs(86_400 + 2 * 3600 + 5)), "+1d2h5s");
    }
}
