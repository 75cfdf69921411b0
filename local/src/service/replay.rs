//! Replay: runs the current code of a recorded execution's function (its `$LATEST`, what the last `up --local`
//! built) with the execution's recorded operations as its checkpointed state, in a sandbox of its own: the
//! handler's checkpoints reach the replay, never the engine, so nothing is recorded, no timer is armed and no
//! chained invoke runs. The SDK checks each operation the code reaches against the record at the same position
//! (type, sub-type and name) and fails with `NonDeterministicExecutionError` on a mismatch; the replay also
//! stops at the first operation the record does not hold, and compares how the handler ends with how the
//! execution ended. Answers "would this change break an execution in flight".

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::Service;
use super::driver::{envelope_json, handler_result};
use crate::engine::model::{ExecutionStatus, Operation, OperationType, OperationUpdate};
use crate::engine::{EngineError, Envelope, InvocationResult};
use crate::runtime::{FunctionResponse, error_body};

/// The error type the SDK reports a replay mismatch with.
const NON_DETERMINISTIC: &str = "NonDeterministicExecutionError";

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayReport {
    /// The recorded execution.
    pub execution: String,
    /// The function version that ran (`$LATEST`: the current code).
    pub qualifier: String,
    /// The recorded operations replayed against, in order (the `EXECUTION` operation left out).
    pub recorded: Vec<RecordedOperation>,
    /// The verdict.
    pub verdict: Verdict,
}

/// One recorded operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedOperation {
    /// 1-based position in the record.
    pub position: usize,
    /// Operation id.
    pub id: String,
    /// Type, sub-type and name: `Step named "charge"`.
    pub identity: String,
}

/// Whether the current code makes the recorded decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The code reaches the recorded operations in the same order with the same types and names, and ends as the
    /// execution did (or waits where it waits).
    Same {
        /// How it ended.
        detail: String,
    },
    /// The code decides differently.
    Diverged {
        /// The position of the first operation that differs, when it is one of the record's.
        position: Option<usize>,
        /// That operation's id.
        operation_id: Option<String>,
        /// What the record holds there.
        recorded: Option<String>,
        /// What the code does now.
        now: Option<String>,
        /// In words.
        detail: String,
    },
    /// The handler could not be replayed (it crashed, timed out or is not deployed).
    Failed {
        /// Why.
        detail: String,
    },
}

/// A replay in progress: the record, and the first thing the handler's checkpoints showed.
#[derive(Debug)]
pub(super) struct Session {
    recorded: Vec<Operation>,
    ended: bool,
    token: String,
    verdict: Option<Verdict>,
}

/// A replay whose process waits before its handler starts (`replay --wait-for-debugger`), until released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldReplay {
    /// What releases it.
    pub session: String,
    /// The process a debugger attaches to.
    pub pid: u32,
}

/// What a replay request answers: held before its handler starts, or the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayAnswer {
    /// The process waits; release it with the session.
    Held(HeldReplay),
    /// The replay ran (or could not start a process: the report says why).
    Report(ReplayReport),
}

/// How long a held replay's handler may run once released: a person steps through it in a debugger, which the
/// function's own timeout would cut short.
const DEBUG_TIMEOUT: std::time::Duration = std::time::Duration::from_hours(1);

/// Held replays by session: what releases each, and the task that finishes it.
pub(super) type HeldSessions =
    Mutex<HashMap<String, (Arc<tokio::sync::Notify>, tokio::task::JoinHandle<Result<ReplayReport, EngineError>>)>>;

/// A held replay's side of its hold: where to say the process started, and what releases it.
type Hold = (tokio::sync::oneshot::Sender<u32>, Arc<tokio::sync::Notify>);

/// How the recorded execution stands, which the replay's end is judged against.
struct Ended {
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<crate::engine::model::ErrorObject>,
}

/// Replays in progress by the ARN their handler was given.
pub(super) type Sessions = Mutex<HashMap<String, Arc<Mutex<Session>>>>;

impl Service {
    /// Replays execution `arn` against the current code of its function; see the module's documentation.
    pub async fn replay(self: &Arc<Self>, arn: &str) -> Result<ReplayReport, EngineError> {
        self.replay_stored(arn, None).await
    }

    /// Starts a replay of `request` whose process waits before the handler starts, for a debugger to attach;
    /// [`Service::release_replay`] lets it go on. A replay that ends before it has a process answers its report.
    pub async fn replay_held(
        self: &Arc<Self>,
        request: crate::protocol::ReplayRequest,
    ) -> Result<ReplayAnswer, EngineError> {
        let (started, pid) = tokio::sync::oneshot::channel();
        let release = Arc::new(tokio::sync::Notify::new());
        let service = self.clone();
        let hold = (started, release.clone());
        let task = tokio::spawn(async move {
            match &request.recorded {
                Some(recorded) => service.replay_from(&request.execution, recorded, Some(hold)).await,
                None => service.replay_stored(&request.execution, Some(hold)).await,
            }
        });
        match pid.await {
            Ok(pid) => {
                let session = self.engine().environment().ids.next_id().simple().to_string();
                self.held_replays
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(session.clone(), (release, task));
                Ok(ReplayAnswer::Held(HeldReplay { session, pid }))
            }
            Err(_) => task
                .await
                .map_err(|e| EngineError::InvalidParameter(format!("the replay stopped: {e}")))?
                .map(ReplayAnswer::Report),
        }
    }

    /// Lets a held replay's handler start, and waits for its report.
    pub async fn release_replay(&self, session: &str) -> Result<ReplayReport, EngineError> {
        let held = self.held_replays.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(session);
        let Some((release, task)) = held else {
            return Err(EngineError::InvalidParameter(format!("no replay is held under session {session}")));
        };
        release.notify_one();
        task.await.map_err(|e| EngineError::InvalidParameter(format!("the replay stopped: {e}")))?
    }

    async fn replay_stored(self: &Arc<Self>, arn: &str, hold: Option<Hold>) -> Result<ReplayReport, EngineError> {
        let (record, operations) = {
            let engine = self.engine();
            (engine.execution(arn)?, engine.operations(arn)?)
        };
        let ended = Ended { status: record.status, result: record.result.clone(), error: record.error.clone() };
        self.replay_operations(arn, &record.function_name, &record.name, &ended, operations, hold).await
    }

    /// Replays an execution recorded elsewhere (`recorded.events`, its history on AWS) against the current code of
    /// `recorded.function` here.
    pub async fn replay_recorded(
        self: &Arc<Self>,
        arn: &str,
        recorded: &crate::protocol::RecordedExecution,
    ) -> Result<ReplayReport, EngineError> {
        self.replay_from(arn, recorded, None).await
    }

    async fn replay_from(
        self: &Arc<Self>,
        arn: &str,
        recorded: &crate::protocol::RecordedExecution,
        hold: Option<Hold>,
    ) -> Result<ReplayReport, EngineError> {
        let operations = crate::engine::history::operations(&recorded.events);
        if operations.first().is_none_or(|op| op.operation_type != OperationType::Execution) {
            return Err(EngineError::InvalidParameter(format!(
                "the history of {arn} has no ExecutionStarted event: read it with its execution data"
            )));
        }
        let ended = Ended { status: recorded.status, result: recorded.result.clone(), error: recorded.error.clone() };
        let name = arn.rsplit('/').nth(1).unwrap_or("recorded").to_owned();
        self.replay_operations(arn, &recorded.function, &name, &ended, operations, hold).await
    }

    async fn replay_operations(
        self: &Arc<Self>,
        arn: &str,
        function: &str,
        execution_name: &str,
        record: &Ended,
        operations: Vec<Operation>,
        hold: Option<Hold>,
    ) -> Result<ReplayReport, EngineError> {
        let qualifier = "$LATEST".to_owned();
        let recorded = recorded_list(&operations);
        let deployment = self.deployment();
        let Some(target) = deployment.resolve(function, Some(&qualifier)) else {
            let detail = format!("function {function} is not deployed here: deploy it with `up --local`");
            return Ok(ReplayReport {
                execution: arn.to_owned(),
                qualifier,
                recorded,
                verdict: Verdict::Failed { detail },
            });
        };
        let id = self.engine().environment().ids.next_id().simple().to_string();
        let replay_arn =
            format!("{}:{qualifier}/durable-execution/{execution_name}/replay-{id}", deployment.function_arn(function));
        let token = format!("replay-{id}");
        let session = Arc::new(Mutex::new(Session {
            recorded: operations.clone(),
            ended: record.status != ExecutionStatus::Running,
            token: token.clone(),
            verdict: None,
        }));
        self.replays
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(replay_arn.clone(), session.clone());
        let envelope = Envelope { execution: replay_arn.clone(), token, request_id: id, operations, next_marker: None };
        let body = Bytes::from(envelope_json(&envelope).to_string());
        let spec = self.spec(&deployment, &target);
        let outcome = match hold {
            None => self.pools.pool(spec).invoke(&envelope.request_id, body, false).await,
            // A process of its own, which waits for the release before it gets the invocation.
            Some((started, release)) => {
                let spec = crate::runtime::RunSpec { timeout: DEBUG_TIMEOUT, ..spec };
                match crate::runtime::instance::Instance::start(&spec).await {
                    Err(e) => FunctionResponse::FunctionError(error_body("Runtime.StartFailed", &e)),
                    Ok(instance) => {
                        let _ = started.send(instance.pid);
                        release.notified().await;
                        instance.invoke(&spec, &envelope.request_id, body, false).await
                    }
                }
            }
        };
        self.replays.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&replay_arn);
        let seen = session.lock().unwrap_or_else(std::sync::PoisonError::into_inner).verdict.take();
        let verdict = seen.unwrap_or_else(|| judge_end(record, &recorded, &handler_result(outcome)));
        Ok(ReplayReport { execution: arn.to_owned(), qualifier, recorded, verdict })
    }

    /// A replay's checkpoint: `None` when `arn` is no replay's. The first update that is not a recorded
    /// operation ends the replay (the checkpoint is refused, so the handler stops before running more of it).
    pub fn replay_checkpoint(
        &self,
        arn: &str,
        token: &str,
        updates: &[OperationUpdate],
    ) -> Option<Result<String, EngineError>> {
        let session = self.replays.lock().ok()?.get(arn)?.clone();
        let mut session = session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if token != session.token {
            return Some(Err(EngineError::InvalidParameter("Invalid checkpoint token".into())));
        }
        let Some(update) = updates.iter().find(|u| u.operation_type != OperationType::Execution) else {
            return Some(Ok(session.token.clone()));
        };
        let verdict = judge_update(&session.recorded, session.ended, update);
        let detail = match &verdict {
            Verdict::Same { detail } | Verdict::Diverged { detail, .. } | Verdict::Failed { detail } => detail.clone(),
        };
        session.verdict.get_or_insert(verdict);
        Some(Err(EngineError::InvalidParameter(format!("the replay stops here: {detail}"))))
    }

    /// A replay's `GetDurableExecutionState`: every recorded operation; `None` when `arn` is no replay's.
    pub fn replay_state(&self, arn: &str) -> Option<Vec<Operation>> {
        let session = self.replays.lock().ok()?.get(arn)?.clone();
        let session = session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(session.recorded.clone())
    }
}

/// `Step/Step named "charge"`, as the SDK spells identities.
fn identity(operation_type: OperationType, sub_type: Option<&str>, name: Option<&str>) -> String {
    let kind = match operation_type {
        OperationType::Execution => "Execution",
        OperationType::Context => "Context",
        OperationType::Step => "Step",
        OperationType::Wait => "Wait",
        OperationType::Callback => "Callback",
        OperationType::ChainedInvoke => "ChainedInvoke",
    };
    let mut text = kind.to_owned();
    if let Some(sub_type) = sub_type {
        text.push('/');
        text.push_str(sub_type);
    }
    if let Some(name) = name {
        let _ = write!(text, " named \"{name}\"");
    }
    text
}

fn recorded_list(operations: &[Operation]) -> Vec<RecordedOperation> {
    operations
        .iter()
        .filter(|op| op.operation_type != OperationType::Execution)
        .enumerate()
        .map(|(i, op)| RecordedOperation {
            position: i + 1,
            id: op.id.clone(),
            identity: identity(op.operation_type, op.sub_type.as_deref(), op.name.as_deref()),
        })
        .collect()
}

/// What the first operation the handler checkpoints during a replay says: it is either one the record does not
/// hold (new code, or the code going on past where a running execution is), or one of the record's that had not
/// ended, checkpointed again.
fn judge_update(recorded: &[Operation], ended: bool, update: &OperationUpdate) -> Verdict {
    let now = identity(update.operation_type, update.sub_type.as_deref(), update.name.as_deref());
    let listed = recorded_list(recorded);
    match listed.iter().find(|op| op.id == update.id) {
        Some(op) if op.identity == now => Verdict::Same {
            detail: format!(
                "the code makes the recorded decisions up to operation {} ({now}), which the recorded execution had \
                 not finished; the replay stops there",
                op.position
            ),
        },
        Some(op) => Verdict::Diverged {
            position: Some(op.position),
            operation_id: Some(op.id.clone()),
            recorded: Some(op.identity.clone()),
            now: Some(now.clone()),
            detail: format!("operation {} was {} and is now {now}", op.position, op.identity),
        },
        None if !ended => Verdict::Same {
            detail: format!(
                "the code makes all {} recorded decisions, then goes on to start {now}, past where the execution is",
                listed.len()
            ),
        },
        None => Verdict::Diverged {
            position: Some(listed.len() + 1),
            operation_id: Some(update.id.clone()),
            recorded: None,
            now: Some(now.clone()),
            detail: format!(
                "the code starts {now} after the {} recorded operations, which the ended execution never did",
                listed.len()
            ),
        },
    }
}

/// The verdict when the handler ended without checkpointing anything new.
fn judge_end(record: &Ended, listed: &[RecordedOperation], result: &InvocationResult) -> Verdict {
    let output = match result {
        InvocationResult::Failed(error) => {
            return Verdict::Failed {
                detail: format!(
                    "the handler did not answer: {}: {}",
                    error.error_type.as_deref().unwrap_or("Error"),
                    error.error_message.as_deref().unwrap_or_default()
                ),
            };
        }
        InvocationResult::Output(output) => output,
    };
    let diverged =
        |detail: String| Verdict::Diverged { position: None, operation_id: None, recorded: None, now: None, detail };
    match (output.status.as_str(), record.status) {
        ("FAILED", _) if output.error.as_ref().and_then(|e| e.error_type.as_deref()) == Some(NON_DETERMINISTIC) => {
            mismatch(listed, output.error.as_ref().and_then(|e| e.error_message.as_deref()).unwrap_or_default())
        }
        ("SUCCEEDED", ExecutionStatus::Succeeded) => {
            if same_json(output.result.as_deref(), record.result.as_deref()) {
                Verdict::Same {
                    detail: format!(
                        "the code makes all {} recorded decisions and returns the recorded result",
                        listed.len()
                    ),
                }
            } else {
                diverged(format!(
                    "the code makes all {} recorded decisions but returns {} where the execution returned {}",
                    listed.len(),
                    output.result.as_deref().unwrap_or("nothing"),
                    record.result.as_deref().unwrap_or("nothing")
                ))
            }
        }
        ("PENDING", ExecutionStatus::Running) => Verdict::Same {
            detail: format!(
                "the code makes all {} recorded decisions and waits where the execution waits",
                listed.len()
            ),
        },
        ("FAILED", ExecutionStatus::Failed)
            if output.error.as_ref().and_then(|e| e.error_type.as_deref())
                == record.error.as_ref().and_then(|e| e.error_type.as_deref()) =>
        {
            Verdict::Same {
                detail: format!(
                    "the code makes all {} recorded decisions and fails as the execution did",
                    listed.len()
                ),
            }
        }
        (now, was) => {
            let error = output
                .error
                .as_ref()
                .map(|e| {
                    format!(
                        " ({}: {})",
                        e.error_type.as_deref().unwrap_or("Error"),
                        e.error_message.as_deref().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            diverged(format!("the handler now ends {now}{error} where the execution is {}", was.as_str()))
        }
    }
}

/// The SDK's mismatch report, `operation at wire id <id> does not match checkpoint: expected <A>, got <B>`, with
/// the position of `<id>` in the record.
fn mismatch(listed: &[RecordedOperation], message: &str) -> Verdict {
    let parsed = message.split_once("operation at wire id ").and_then(|(_, rest)| {
        let (id, rest) = rest.split_once(" does not match checkpoint: expected ")?;
        let (expected, got) = rest.split_once(", got ")?;
        Some((id.to_owned(), expected.to_owned(), got.lines().next().unwrap_or(got).to_owned()))
    });
    match parsed {
        Some((id, expected, got)) => {
            let position = listed.iter().find(|op| op.id == id).map(|op| op.position);
            let at = position.map_or_else(|| format!("operation {id}"), |p| format!("operation {p}"));
            Verdict::Diverged {
                position,
                operation_id: Some(id),
                detail: format!("{at} was {expected} and is now {got}"),
                recorded: Some(expected),
                now: Some(got),
            }
        }
        None => Verdict::Diverged {
            position: None,
            operation_id: None,
            recorded: None,
            now: None,
            detail: format!("the SDK found the code non-deterministic: {message}"),
        },
    }
}

/// Whether two result texts hold the same JSON (or the same text, when not JSON).
fn same_json(a: Option<&str>, b: Option<&str>) -> bool {
    let parse = |t: Option<&str>| t.map(|t| serde_json::from_str::<serde_json::Value>(t).map_err(|_| t.to_owned()));
    match (parse(a), parse(b)) {
        (Some(Ok(a)), Some(Ok(b))) => a == b,
        (Some(Err(a)), Some(Err(b))) => a == b,
        (None, None | Some(Ok(serde_json::Value::Null))) | (Some(Ok(serde_json::Value::Null)), None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn listed() -> Vec<RecordedOperation> {
        vec![
            RecordedOperation { position: 1, id: "a1".into(), identity: "Wait/Wait named \"wait-1\"".into() },
            RecordedOperation { position: 2, id: "b2".into(), identity: "Wait/Wait named \"wait-2\"".into() },
        ]
    }

    #[test]
    fn the_sdk_mismatch_names_the_recorded_position() {
        let message = "operation at wire id b2 does not match checkpoint: expected Wait/Wait named \"wait-2\", got \
                       Step/Step named \"charge\"";
        let Verdict::Diverged { position, operation_id, recorded, now, detail } = mismatch(&listed(), message) else {
            unreachable!()
        };
        assert_eq!(position, Some(2));
        assert_eq!(operation_id.as_deref(), Some("b2"));
        assert_eq!(recorded.as_deref(), Some("Wait/Wait named \"wait-2\""));
        assert_eq!(now.as_deref(), Some("Step/Step named \"charge\""));
        assert_eq!(detail, "operation 2 was Wait/Wait named \"wait-2\" and is now Step/Step named \"charge\"");
    }

    #[test]
    fn results_compare_as_json() {
        assert!(same_json(Some("{\"a\": 1}"), Some("{\"a\":1}")));
        assert!(!same_json(Some("1"), Some("2")));
        assert!(same_json(None, Some("null")));
    }
}
