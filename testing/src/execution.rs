//! One durable execution: its status and result, its history, its callbacks by name, stop. Reads settle first:
//! they wait until the app is idle, so what they show stays true until the clock moves or the test calls.

use std::sync::Arc;

use local::engine::CallbackCommand;
use local::engine::model::{ErrorObject, ExecutionStatus, OperationStatus as StoredStatus, OperationType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::app::Inner;
use crate::clock::Clock;
use crate::error::{Result, TestError};
use crate::history::{Failure, History, Operation};

/// Where an execution stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Under way: running a handler, or waiting for time or a callback.
    Running,
    /// Ended with a result.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// Ran past its execution timeout.
    TimedOut,
    /// Stopped.
    Stopped,
}

impl From<ExecutionStatus> for Status {
    fn from(status: ExecutionStatus) -> Self {
        match status {
            ExecutionStatus::Running => Self::Running,
            ExecutionStatus::Succeeded => Self::Succeeded,
            ExecutionStatus::Failed => Self::Failed,
            ExecutionStatus::TimedOut => Self::TimedOut,
            ExecutionStatus::Stopped => Self::Stopped,
        }
    }
}

/// A durable execution of the app.
#[derive(Clone)]
pub struct Execution {
    inner: Arc<Inner>,
    arn: String,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution").field("arn", &self.arn).finish_non_exhaustive()
    }
}

impl Execution {
    pub(crate) fn new(inner: Arc<Inner>, arn: String) -> Self {
        Self { inner, arn }
    }

    /// Its ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    async fn settle(&self) -> Result<()> {
        Clock::new(self.inner.clone()).run_until_idle().await
    }

    fn record(&self) -> Result<local::engine::ExecutionRecord> {
        Ok(self.inner.service()?.engine().execution(&self.arn)?)
    }

    /// Its status, once the app is idle.
    ///
    /// # Errors
    ///
    /// An unknown execution; a hung handler ([`crate::Clock::run_until_idle`]).
    pub async fn status(&self) -> Result<Status> {
        self.settle().await?;
        Ok(self.record()?.status.into())
    }

    /// Its operations, once the app is idle.
    ///
    /// # Errors
    ///
    /// As [`Execution::status`].
    pub async fn history(&self) -> Result<History> {
        self.settle().await?;
        let operations = self.inner.service()?.engine().operations(&self.arn)?;
        Ok(History { operations: operations.iter().map(Operation::from).collect() })
    }

    /// Its result, once the app is idle; the clock does not move.
    ///
    /// # Errors
    ///
    /// [`TestError::Invalid`] when it has not succeeded: still running (saying what it waits for), or ended with
    /// an error (saying which); [`TestError::Json`] when the result is not a `T`.
    pub async fn result<T: DeserializeOwned>(&self) -> Result<T> {
        self.settle().await?;
        let record = self.record()?;
        match record.status {
            ExecutionStatus::Succeeded => Ok(serde_json::from_str(record.result.as_deref().unwrap_or("null"))?),
            ExecutionStatus::Running => Err(TestError::Invalid(format!(
                "{} is still running, waiting for {}: move the clock or answer the callback",
                self.arn,
                self.waiting_for().await?
            ))),
            status => Err(TestError::Invalid(format!(
                "{} ended {}: {}",
                self.arn,
                status.as_str(),
                describe(record.error.as_ref())
            ))),
        }
    }

    /// The error it ended with, once the app is idle.
    ///
    /// # Errors
    ///
    /// [`TestError::Invalid`] when it is running or succeeded.
    pub async fn error(&self) -> Result<Failure> {
        self.settle().await?;
        let record = self.record()?;
        match (record.status, record.error) {
            (ExecutionStatus::Running | ExecutionStatus::Succeeded, _) => {
                Err(TestError::Invalid(format!("{} has no error: it is {}", self.arn, record.status.as_str())))
            }
            (_, error) => Ok(Failure {
                error_type: error.as_ref().and_then(|e| e.error_type.clone()),
                message: error.and_then(|e| e.error_message),
            }),
        }
    }

    /// What a running execution waits for, in words (for error messages).
    async fn waiting_for(&self) -> Result<String> {
        let history = self.history().await?;
        let open: Vec<String> = history
            .operations
            .iter()
            .filter(|op| op.ended.is_none() && op.kind() != "EXECUTION" && op.kind() != "CONTEXT")
            .map(|op| format!("{} {}", op.kind().to_lowercase(), op.name.as_deref().unwrap_or(&op.id)))
            .collect();
        Ok(if open.is_empty() { "nothing the history shows".into() } else { open.join(", ") })
    }

    /// A callback of this execution, by the name the handler gave it (`wait_for_callback(...).name("approval")`,
    /// or `create_callback().name(...)`).
    pub fn callback(&self, name: &str) -> Callback {
        Callback { execution: self.clone(), name: name.to_owned(), id: None }
    }

    /// A callback of this execution by its callback id (from the history, or from what the handler sent out).
    pub fn callback_with_id(&self, callback_id: &str) -> Callback {
        Callback { execution: self.clone(), name: String::new(), id: Some(callback_id.to_owned()) }
    }

    /// Stops it (`StopDurableExecution`), then runs until idle.
    ///
    /// # Errors
    ///
    /// The engine's refusal (an execution already ended).
    pub async fn stop(&self) -> Result<()> {
        let arn = self.arn.clone();
        self.inner
            .on_service(move |service| async move {
                let (_, actions) = service.engine().stop(&arn, None)?;
                service.execute(actions);
                Ok(())
            })
            .await?;
        self.settle().await
    }
}

fn describe(error: Option<&ErrorObject>) -> String {
    error.map_or_else(
        || "no error recorded".to_owned(),
        |e| format!("{}: {}", e.error_type.as_deref().unwrap_or("Error"), e.error_message.as_deref().unwrap_or("")),
    )
}

/// A callback of an execution, found by name when the test answers it.
#[derive(Debug, Clone)]
pub struct Callback {
    execution: Execution,
    name: String,
    id: Option<String>,
}

impl Callback {
    /// The callback id, once the app is idle: of the latest callback of that name still waiting for an answer.
    ///
    /// # Errors
    ///
    /// [`TestError::NotFound`] when no callback of that name waits, listing the ones that do.
    pub async fn id(&self) -> Result<String> {
        self.execution.settle().await?;
        if let Some(id) = &self.id {
            return Ok(id.clone());
        }
        let operations = self.execution.inner.service()?.engine().operations(&self.execution.arn)?;
        let name_of = |id: Option<&String>| {
            id.and_then(|id| operations.iter().find(|op| &op.id == id)).and_then(|op| op.name.as_deref())
        };
        let waiting = operations
            .iter()
            .filter(|op| op.operation_type == OperationType::Callback && op.status == StoredStatus::Started);
        let found = waiting
            .clone()
            .rfind(|op| {
                op.name.as_deref() == Some(self.name.as_str())
                    || name_of(op.parent_id.as_ref()) == Some(self.name.as_str())
            })
            .and_then(|op| op.callback_details.as_ref()?.callback_id.clone());
        found.ok_or_else(|| {
            let names: Vec<&str> = waiting
                .map(|op| op.name.as_deref().or_else(|| name_of(op.parent_id.as_ref())).unwrap_or("(unnamed)"))
                .collect();
            TestError::NotFound(format!(
                "no callback named {} waits in {}; waiting now: {}",
                self.name,
                self.execution.arn,
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            ))
        })
    }

    async fn send(&self, command: CallbackCommand) -> Result<()> {
        let id = self.id().await?;
        self.execution
            .inner
            .on_service(move |service| async move {
                let actions = service.engine().callback(&id, &command)?;
                service.execute(actions);
                Ok(())
            })
            .await?;
        self.execution.settle().await
    }

    /// Answers it with `result` (`SendDurableExecutionCallbackSuccess`), then runs until idle.
    ///
    /// # Errors
    ///
    /// As [`Callback::id`]; the engine's refusal.
    pub async fn succeed(&self, result: impl Serialize) -> Result<()> {
        self.send(CallbackCommand::Succeed(Some(serde_json::to_string(&result)?))).await
    }

    /// Fails it (`SendDurableExecutionCallbackFailure`), then runs until idle.
    ///
    /// # Errors
    ///
    /// As [`Callback::succeed`].
    pub async fn fail(&self, error_type: &str, message: &str) -> Result<()> {
        self.send(CallbackCommand::Fail(ErrorObject::new(error_type, message))).await
    }

    /// Says the work behind it goes on (`SendDurableExecutionCallbackHeartbeat`): its heartbeat timeout starts
    /// again from now.
    ///
    /// # Errors
    ///
    /// As [`Callback::succeed`].
    pub async fn heartbeat(&self) -> Result<()> {
        self.send(CallbackCommand::Heartbeat).await
    }
}
