//! The durable execution engine: the service side of the protocol the official SDKs speak (executions, checkpoint
//! tokens, operations and their history, timers, callbacks, chained invokes), on a `SQLite` store.
//!
//! The engine decides, other parts act. Each command ([`Engine::start`], [`Engine::checkpoint`],
//! [`Engine::invocation_ended`], [`Engine::timer_fired`], ...) is one transaction on the store: it loads the part
//! of the execution's state the command needs, decides purely (a function of that state, the command and the
//! command's time and ids from the [`Environment`]), stores the changes the decision lists, and returns the
//! [`Action`]s it decided: run a handler invocation, invoke a chained target, arm a timer, tell waiters an
//! execution ended. The service ([`crate::service`]) carries them out and reports back with the next command. So
//! every decision is testable as (state, command) → (changes, actions), without a store, processes, sockets or
//! clocks, and recovery after a crash is [`Engine::recover`]: read the store and decide again what is pending.
//!
//! Invocation loop: one handler invocation of an execution at a time. Completions of chained invokes and timers
//! that arrive while the handler runs are queued and applied when its invocation ends (the order the service's
//! histories show: the invocation completes, then the result arrives); callbacks, stops and the execution timeout
//! apply at once.

mod env;
pub mod history;
pub mod model;
mod state;
mod store;

mod checkpoint;
mod decision;
mod lifecycle;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::path::Path;

use rusqlite::Connection;

use crate::error::LocalError;
use decision::{Answer, Command, Decision, Env};
pub use env::{Clock, Environment, IdSource, ManualClock, RandomIds, SequentialIds, SystemClock};
use model::{ErrorObject, Event, ExecutionStatus, HandlerOutput, Operation, OperationUpdate};
use state::{Completion, ExecutionState, OperationsNeeded, TargetEnd};
pub use state::{EndResult, ExecutionRecord, ParentLink};
pub use store::{AsyncInvocation, ListFilter};

/// How the engine behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Fire waits, step retry delays and callback timeouts at once instead of at their time (local testing of
    /// long workflows); the history still shows the times the handler asked for.
    pub skip_time: bool,
    /// Failed handler invocations in a row (crash, timeout, unreadable answer) before the execution fails.
    pub max_invocation_failures: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { skip_time: false, max_invocation_failures: 5 }
    }
}

/// What the engine asks the service to do, once the command's transaction has committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run handler invocation number `invocation` of an execution (build its envelope with [`Engine::envelope`]).
    InvokeHandler {
        /// Execution ARN.
        execution: String,
        /// Invocation number.
        invocation: u64,
    },
    /// Invoke a plain function for a `CHAINED_INVOKE` operation and report with [`Engine::target_ended`].
    InvokeTarget {
        /// Execution ARN.
        execution: String,
        /// Operation id.
        operation: String,
        /// Bare function name of the target.
        function_name: String,
        /// Version or `$LATEST` to run.
        qualifier: String,
        /// The payload (absent: the empty event).
        payload: Option<String>,
        /// Tenant id, for tenant-isolated functions.
        tenant_id: Option<String>,
    },
    /// Call [`Engine::timer_fired`] at `at_ms` (epoch ms) unless the engine re-arms or disarms it first.
    ArmTimer {
        /// Execution ARN.
        execution: String,
        /// Timer name.
        timer: String,
        /// When.
        at_ms: i64,
    },
    /// The execution reached a terminal status: answer whoever waits for it.
    Ended {
        /// Execution ARN.
        execution: String,
    },
}

/// A chained-invoke target, resolved as the Invoke API resolves a function identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeTarget {
    /// Bare function name.
    pub function_name: String,
    /// Unqualified function ARN.
    pub function_arn: String,
    /// The version that runs (`$LATEST` or a number): `ExecutedVersion` in the history.
    pub qualifier: String,
    /// `(ExecutionTimeout, RetentionPeriodInDays)` when the target is a durable function.
    pub durable: Option<(i64, i64)>,
}

/// Resolves chained-invoke targets against what is deployed.
pub trait Functions {
    /// The target `identifier` names (a name, an ARN or a partial ARN, optionally qualified), or the error the
    /// Invoke API would answer.
    fn resolve(&self, identifier: &str) -> Result<InvokeTarget, ErrorObject>;
}

/// What went wrong with a command, as the API answers it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No such execution, callback or operation (`ResourceNotFoundException`).
    #[error("{0}")]
    NotFound(String),
    /// A parameter the service rejects (`InvalidParameterValueException`).
    #[error("{0}")]
    InvalidParameter(String),
    /// The execution name is taken by an execution with another input.
    #[error("{0}")]
    AlreadyStarted(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] LocalError),
}

impl From<rusqlite::Error> for EngineError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Store(LocalError::Store(error.to_string()))
    }
}

/// A request to start an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    /// Bare function name.
    pub function_name: String,
    /// Unqualified function ARN.
    pub function_arn: String,
    /// Version or `$LATEST`.
    pub qualifier: String,
    /// Execution name (idempotency key); generated when absent.
    pub name: Option<String>,
    /// The input payload, JSON text.
    pub input: String,
    /// `ExecutionTimeout`, seconds.
    pub timeout_s: i64,
    /// `RetentionPeriodInDays`.
    pub retention_days: i64,
}

/// The answer to a start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// A new execution.
    Started(ExecutionRecord),
    /// The execution already started under that name with the same input.
    Existing(ExecutionRecord),
}

impl StartOutcome {
    /// The execution either way.
    pub fn record(&self) -> &ExecutionRecord {
        match self {
            Self::Started(r) | Self::Existing(r) => r,
        }
    }
}

/// The input envelope of one handler invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Execution ARN.
    pub execution: String,
    /// The token its checkpoints must carry.
    pub token: String,
    /// The request id of this invocation.
    pub request_id: String,
    /// The first page of operations (the EXECUTION operation first).
    pub operations: Vec<Operation>,
    /// Where `GetDurableExecutionState` continues, when the operations did not fit.
    pub next_marker: Option<String>,
}

/// The answer to a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointAnswer {
    /// The next token.
    pub token: String,
    /// Operations changed since the handler last looked (those of this checkpoint included).
    pub operations: Vec<Operation>,
}

/// How a handler invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationResult {
    /// The handler answered with a durable output envelope.
    Output(HandlerOutput),
    /// The invocation failed (crash, timeout, runtime error, unreadable answer).
    Failed(ErrorObject),
}

/// How a chained invoke's target ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetOutcome {
    /// With a result.
    Succeeded(Option<String>),
    /// With an error.
    Failed(ErrorObject),
    /// It ran out of time.
    TimedOut(ErrorObject),
    /// It was stopped.
    Stopped(ErrorObject),
}

/// What an external system sends about a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackCommand {
    /// `SendDurableExecutionCallbackSuccess`.
    Succeed(Option<String>),
    /// `SendDurableExecutionCallbackFailure`.
    Fail(ErrorObject),
    /// `SendDurableExecutionCallbackHeartbeat`.
    Heartbeat,
}

/// A page of history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// Events.
    pub events: Vec<Event>,
    /// Where the next page starts.
    pub next_marker: Option<String>,
}

impl From<TargetOutcome> for TargetEnd {
    fn from(outcome: TargetOutcome) -> Self {
        match outcome {
            TargetOutcome::Succeeded(r) => Self::Succeeded(r),
            TargetOutcome::Failed(e) => Self::Failed(e),
            TargetOutcome::TimedOut(e) => Self::TimedOut(e),
            TargetOutcome::Stopped(e) => Self::Stopped(e),
        }
    }
}

/// Timer names.
mod timer {
    /// The execution's `ExecutionTimeout`.
    pub(super) const EXECUTION_TIMEOUT: &str = "timeout";
    /// The next handler invocation after a failed one.
    pub(super) const INVOKE: &str = "invoke";
    /// A wait's end or a step's next attempt.
    pub(super) fn operation(id: &str) -> String {
        format!("op:{id}")
    }
    /// The operation a timer belongs to (`None` for the execution's own timers).
    pub(super) fn operation_id(name: &str) -> Option<&str> {
        name.split_once(':').map(|(_, id)| id)
    }
    /// A callback's timeout.
    pub(super) fn callback(id: &str) -> String {
        format!("cb:{id}")
    }
    /// A callback's heartbeat timeout.
    pub(super) fn heartbeat(id: &str) -> String {
        format!("hb:{id}")
    }
}

/// The engine: the store and the environment its decisions draw time and ids from.
pub struct Engine {
    conn: Connection,
    env: Environment,
    config: EngineConfig,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Decides `command` on `state` (`None`: no such execution; for a start, none holding the name).
fn decide(state: Option<ExecutionState>, command: Command<'_>, env: &Env<'_>) -> Result<Decision, EngineError> {
    match command {
        Command::Start { request, parent, identity } => lifecycle::start(state, request, parent, identity, env),
        Command::Envelope { invocation, .. } => lifecycle::envelope(state, invocation, env),
        Command::Checkpoint { execution, token, updates, client_token, functions } => {
            checkpoint::checkpoint(state, execution, token, updates, client_token, functions, env)
        }
        Command::InvocationEnded { invocation, result, .. } => {
            lifecycle::invocation_ended(state, invocation, result, env)
        }
        Command::Deliver { completion, .. } => Ok(lifecycle::arrive(state, completion, env)),
        Command::TimerFired { timer, .. } => lifecycle::timer_fired(state, timer, env),
        Command::Callback { callback_id, command } => lifecycle::callback(state, callback_id, command, env),
        Command::Stop { execution, error } => lifecycle::stop(state, execution, error, env),
        Command::StopChild { error, .. } => lifecycle::stop_child(state, error, env),
        Command::Recover => lifecycle::recover(state, env),
    }
}

/// What `command` needs of its execution, read from the store.
fn load(tx: &Connection, command: Command<'_>) -> Result<Option<ExecutionState>, EngineError> {
    let record = match command {
        Command::Start { request, identity: None, .. } => {
            let existing = match &request.name {
                Some(name) => store::execution_by_name(tx, &request.function_name, name)?,
                None => None,
            };
            return Ok(existing.map(ExecutionState::bare));
        }
        // A child's name was drawn just now: no execution holds it.
        Command::Start { .. } | Command::Recover => return Ok(None),
        Command::Callback { callback_id, .. } => return Ok(store::load_by_callback(tx, callback_id)?),
        _ => match command.execution() {
            Some(arn) => store::execution(tx, arn)?,
            None => None,
        },
    };
    let load = |record: ExecutionRecord| {
        let operations = command.operations_needed(&record);
        store::load(tx, record, &operations)
    };
    Ok(record.map(load).transpose()?)
}

/// Stores a decision's changes; a started execution's record gets the key the store gave it.
fn store_decision(tx: &Connection, key: Option<i64>, decision: &mut Decision) -> Result<(), EngineError> {
    let key = store::apply(tx, key, &decision.changes)?;
    if let (Answer::Start(outcome), Some(key)) = (&mut decision.answer, key)
        && let StartOutcome::Started(record) = &mut **outcome
    {
        record.key = key;
    }
    Ok(())
}

/// Loads what `command` needs, decides, and stores the decision's changes.
fn run(tx: &Connection, command: Command<'_>, env: &Env<'_>) -> Result<Decision, EngineError> {
    let state = load(tx, command)?;
    let key = state.as_ref().map(|s| s.record.key);
    let mut decision = decide(state, command, env)?;
    store_decision(tx, key, &mut decision)?;
    Ok(decision)
}

/// Runs the commands a stored decision sends to other executions, and theirs in turn, in this transaction;
/// returns the decision's answer and every action decided.
fn follow_up(tx: &Connection, decision: Decision, env: &Env<'_>) -> Result<(Answer, Vec<Action>), EngineError> {
    let Decision { answer, mut actions, follow_ups, .. } = decision;
    let mut pending = VecDeque::from(follow_ups);
    while let Some(next) = pending.pop_front() {
        let mut decision = run(tx, next.command(), env)?;
        actions.append(&mut decision.actions);
        pending.extend(decision.follow_ups);
    }
    Ok((answer, actions))
}

impl Engine {
    /// An engine on the store file at `path`.
    pub fn open(path: &Path, env: Environment, config: EngineConfig) -> Result<Self, LocalError> {
        Ok(Self { conn: store::open(path)?, env, config })
    }

    /// An engine on a store in memory (tests).
    pub fn in_memory(env: Environment, config: EngineConfig) -> Result<Self, LocalError> {
        Ok(Self { conn: store::open_in_memory()?, env, config })
    }

    /// The engine's configuration.
    pub fn config(&self) -> EngineConfig {
        self.config
    }

    /// Where the engine's time and ids come from (the timer task waits on the same clock).
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// Runs `command` at the clock's time now.
    fn command(&mut self, command: Command<'_>) -> Result<(Answer, Vec<Action>), EngineError> {
        self.command_at(self.env.clock.now_ms(), command)
    }

    /// Runs `command` at `now` in one transaction: load, decide, store, follow up; commits when it all succeeds
    /// and returns the answer and the actions.
    fn command_at(&mut self, now: i64, command: Command<'_>) -> Result<(Answer, Vec<Action>), EngineError> {
        let env = Env { now, ids: &*self.env.ids, config: self.config };
        let tx = self.conn.transaction()?;
        let decision = run(&tx, command, &env)?;
        let answer = follow_up(&tx, decision, &env)?;
        tx.commit()?;
        Ok(answer)
    }

    /// Starts an execution, or finds the one already started under the same name with the same input.
    #[tracing::instrument(level = "debug", name = "engine.start", skip_all)]
    pub fn start(&mut self, request: &StartRequest) -> Result<(StartOutcome, Vec<Action>), EngineError> {
        match self.command(Command::Start { request, parent: None, identity: None })? {
            (Answer::Start(outcome), actions) => Ok((*outcome, actions)),
            (other, _) => Err(unexpected("start", &other)),
        }
    }

    /// The envelope of handler invocation `invocation`; `None` when that invocation is no longer the current one.
    #[tracing::instrument(level = "debug", name = "engine.envelope", skip_all)]
    pub fn envelope(&mut self, arn: &str, invocation: u64) -> Result<Option<Envelope>, EngineError> {
        match self.command(Command::Envelope { execution: arn, invocation })?.0 {
            Answer::Envelope(envelope) => Ok(envelope),
            other => Err(unexpected("envelope", &other)),
        }
    }

    /// `CheckpointDurableExecution`.
    #[tracing::instrument(level = "debug", name = "engine.checkpoint", skip_all)]
    pub fn checkpoint(
        &mut self,
        arn: &str,
        token: &str,
        updates: &[OperationUpdate],
        client_token: Option<&str>,
        functions: &dyn Functions,
    ) -> Result<(CheckpointAnswer, Vec<Action>), EngineError> {
        let command = Command::Checkpoint { execution: arn, token, updates, client_token, functions };
        match self.command(command)? {
            (Answer::Checkpoint(answer), actions) => Ok((answer, actions)),
            (other, _) => Err(unexpected("checkpoint", &other)),
        }
    }

    /// `GetDurableExecutionState`: a page of operations for the invocation holding `token`.
    pub fn state(
        &mut self,
        arn: &str,
        token: &str,
        marker: Option<&str>,
        max_items: usize,
    ) -> Result<(Vec<Operation>, Option<String>), EngineError> {
        let exec = store::execution(&self.conn, arn)?.ok_or_else(|| not_found(arn))?;
        let current = exec.run.token.as_deref() == Some(token)
            || exec.run.last_checkpoint.as_ref().is_some_and(|c| c.token_out == token);
        if !current || exec.status != ExecutionStatus::Running {
            return Err(EngineError::InvalidParameter("Invalid checkpoint token".into()));
        }
        let start: usize = match marker {
            None | Some("") => 0,
            Some(m) => m.parse().map_err(|_| EngineError::InvalidParameter(format!("Invalid marker: {m}")))?,
        };
        let ops = store::operations(&self.conn, exec.key)?;
        let end = start.saturating_add(max_items.max(1)).min(ops.len());
        let page = ops.get(start..end).map(<[Operation]>::to_vec).unwrap_or_default();
        Ok((page, (end < ops.len()).then(|| end.to_string())))
    }

    /// A handler invocation ended.
    #[tracing::instrument(level = "debug", name = "engine.invocation_ended", skip_all)]
    pub fn invocation_ended(
        &mut self,
        arn: &str,
        invocation: u64,
        result: &InvocationResult,
    ) -> Result<Vec<Action>, EngineError> {
        Ok(self.command(Command::InvocationEnded { execution: arn, invocation, result })?.1)
    }

    /// A chained invoke's target ended.
    #[tracing::instrument(level = "debug", name = "engine.target_ended", skip_all)]
    pub fn target_ended(
        &mut self,
        arn: &str,
        operation: &str,
        outcome: TargetOutcome,
    ) -> Result<Vec<Action>, EngineError> {
        let completion = Completion::Target { operation: operation.to_owned(), outcome: outcome.into() };
        Ok(self.command(Command::Deliver { execution: arn, completion: &completion })?.1)
    }

    /// A timer is due.
    #[tracing::instrument(level = "debug", name = "engine.timer_fired", skip_all)]
    pub fn timer_fired(&mut self, arn: &str, timer: &str) -> Result<Vec<Action>, EngineError> {
        Ok(self.command(Command::TimerFired { execution: arn, timer })?.1)
    }

    /// `SendDurableExecutionCallbackSuccess` / Failure / Heartbeat.
    #[tracing::instrument(level = "debug", name = "engine.callback", skip_all)]
    pub fn callback(&mut self, callback_id: &str, command: &CallbackCommand) -> Result<Vec<Action>, EngineError> {
        Ok(self.command(Command::Callback { callback_id, command })?.1)
    }

    /// `StopDurableExecution`; returns when it stopped.
    pub fn stop(&mut self, arn: &str, error: Option<&ErrorObject>) -> Result<(i64, Vec<Action>), EngineError> {
        let now = self.env.clock.now_ms();
        let (_, actions) = self.command_at(now, Command::Stop { execution: arn, error })?;
        Ok((now, actions))
    }

    /// After a restart: every RUNNING execution's pending work, decided again (handler invocations cut short are
    /// run again, chained invokes without a result are issued again, timers re-armed).
    pub fn recover(&mut self) -> Result<Vec<Action>, EngineError> {
        let env = Env { now: self.env.clock.now_ms(), ids: &*self.env.ids, config: self.config };
        let tx = self.conn.transaction()?;
        let mut actions = Vec::new();
        for record in store::executions_with_status(&tx, ExecutionStatus::Running)? {
            let key = record.key;
            let state = store::load(&tx, record, &OperationsNeeded::All)?;
            let mut decision = decide(Some(state), Command::Recover, &env)?;
            store_decision(&tx, Some(key), &mut decision)?;
            actions.append(&mut follow_up(&tx, decision, &env)?.1);
        }
        tx.commit()?;
        Ok(actions)
    }

    /// The armed timer that fires first, `(execution ARN, timer name, when)`: what a hand-moved clock moves to
    /// next.
    pub fn next_timer(&self) -> Result<Option<(String, String, i64)>, EngineError> {
        Ok(store::next_timer(&self.conn)?)
    }

    /// The armed timers of running executions around `now`: how many are due, and when the first later one is
    /// due (what a hand-moved clock moves to next).
    pub fn timers_around(&self, now: i64) -> Result<(usize, Option<i64>), EngineError> {
        Ok(store::timers_around(&self.conn, now)?)
    }

    /// Every operation of an execution, in the order they were recorded (the `EXECUTION` operation first).
    pub fn operations(&self, arn: &str) -> Result<Vec<Operation>, EngineError> {
        let exec = store::execution(&self.conn, arn)?.ok_or_else(|| not_found(arn))?;
        Ok(store::operations(&self.conn, exec.key)?)
    }

    /// `GetDurableExecution`.
    pub fn execution(&self, arn: &str) -> Result<ExecutionRecord, EngineError> {
        store::execution(&self.conn, arn)?.ok_or_else(|| not_found(arn))
    }

    /// `ListDurableExecutionsByFunction`: one page, with the marker of the next.
    pub fn list(&self, filter: &ListFilter) -> Result<(Vec<ExecutionRecord>, Option<String>), EngineError> {
        let mut records = store::list_executions(&self.conn, filter)?;
        let more = records.len() > filter.limit;
        records.truncate(filter.limit);
        let marker = if more { records.last().map(|r| r.key.to_string()) } else { None };
        Ok((records, marker))
    }

    /// `GetDurableExecutionHistory`: one page of events.
    pub fn history(
        &self,
        arn: &str,
        marker: Option<&str>,
        max_items: usize,
        reverse: bool,
    ) -> Result<HistoryPage, EngineError> {
        let exec = store::execution(&self.conn, arn)?.ok_or_else(|| not_found(arn))?;
        let total = exec.run.events;
        let max = i64::try_from(max_items.max(1)).unwrap_or(i64::MAX);
        let start: i64 = match marker {
            None | Some("") => {
                if reverse {
                    total
                } else {
                    1
                }
            }
            Some(m) => m.parse().map_err(|_| EngineError::InvalidParameter(format!("Invalid marker: {m}")))?,
        };
        let (events, next) = if reverse {
            let low = (start - max + 1).max(1);
            let mut events = store::events(&self.conn, exec.key, low, start)?;
            events.reverse();
            (events, (low > 1).then(|| (low - 1).to_string()))
        } else {
            let high = start.saturating_add(max - 1).min(total);
            let events = store::events(&self.conn, exec.key, start, high)?;
            (events, (high < total).then(|| (high + 1).to_string()))
        };
        Ok(HistoryPage { events, next_marker: next })
    }

    /// Records an accepted asynchronous invocation of a plain function (run at least once, also after a crash).
    pub fn accept_async(&mut self, function: &str, qualifier: &str, payload: &[u8]) -> Result<i64, EngineError> {
        let now = self.env.clock.now_ms();
        Ok(store::push_async(&self.conn, function, qualifier, payload, now)?)
    }

    /// An asynchronous invocation ran to its end.
    pub fn finish_async(&mut self, seq: i64) -> Result<(), EngineError> {
        Ok(store::delete_async(&self.conn, seq)?)
    }

    /// Asynchronous invocations accepted and not run to their end: `(seq, function, qualifier, payload)`.
    pub fn pending_async(&self) -> Result<Vec<store::AsyncInvocation>, EngineError> {
        Ok(store::pending_async(&self.conn)?)
    }

    /// Deletes executions whose retention period has passed; returns how many.
    pub fn purge(&mut self) -> Result<usize, EngineError> {
        let now = self.env.clock.now_ms();
        let tx = self.conn.transaction()?;
        let purged = store::purge_ended(&tx, now)?;
        tx.commit()?;
        Ok(purged)
    }

    /// Every running execution.
    pub fn list_running(&self) -> Result<Vec<ExecutionRecord>, EngineError> {
        Ok(store::executions_with_status(&self.conn, ExecutionStatus::Running)?)
    }

    /// How many executions the store holds.
    pub fn count(&self) -> Result<i64, EngineError> {
        Ok(store::count_executions(&self.conn)?)
    }
}

fn not_found(arn: &str) -> EngineError {
    EngineError::NotFound(format!("Durable execution not found: {arn}"))
}

/// A decision answered another kind of command than it was given (a bug in the engine, not in the request).
fn unexpected(command: &str, answer: &Answer) -> EngineError {
    EngineError::Store(format!("the engine answered a {command} command with {answer:?}").into())
}

/// Whether `name` is a valid execution name: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
