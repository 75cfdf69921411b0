//! What a decision takes and gives: a [`Command`] on one execution's loaded state, in an [`Env`] (now, an id
//! source, the engine's settings), gives a [`Decision`]: the answer to the caller, the [`Change`]s to store, the
//! [`Action`]s to carry out, and the commands it sends to other executions ([`FollowUp`]: a chained invoke's
//! child execution, a parent awaiting its child, a child stopped with its parent). [`Ctx`] is the working set a
//! decision is built in: the execution as the command changes it, and the changes so far.

use std::collections::{BTreeMap, HashMap};

use super::env::IdSource;
use super::model::{ErrorObject, Event, Operation, OperationUpdate};
use super::state::{
    Change, Completion, ExecutionRecord, ExecutionState, OperationsNeeded, ParentLink, StoredOperation,
};
use super::{
    Action, CallbackCommand, CheckpointAnswer, EngineConfig, EngineError, Envelope, Functions, InvocationResult,
    StartOutcome, StartRequest, timer,
};

/// Where a decision stands: the time of its command, the ids it may draw and the engine's settings.
pub(crate) struct Env<'a> {
    /// The command's time (epoch ms), read once: every timestamp the command writes is this one.
    pub now: i64,
    /// The id source.
    pub ids: &'a dyn IdSource,
    /// The engine's settings.
    pub config: EngineConfig,
}

impl Env<'_> {
    /// A new id, hyphenated (execution names and ids, request ids).
    pub(super) fn id(&self) -> String {
        self.ids.next_id().to_string()
    }

    /// A new id, 32 hex digits (tokens, callback ids).
    pub(super) fn hex_id(&self) -> String {
        self.ids.next_id().simple().to_string()
    }
}

/// A command on one execution.
#[derive(Clone, Copy)]
pub(crate) enum Command<'a> {
    /// Start an execution; its state is the execution already holding the requested name, if any.
    Start {
        /// The request.
        request: &'a StartRequest,
        /// The chained invoke waiting for it, for a child execution.
        parent: Option<&'a ParentLink>,
        /// Its name and id when drawn already (a child's, named in its parent's history).
        identity: Option<(&'a str, &'a str)>,
    },
    /// Build the envelope of handler invocation `invocation`.
    Envelope {
        /// Execution ARN.
        execution: &'a str,
        /// Invocation number.
        invocation: u64,
    },
    /// `CheckpointDurableExecution`.
    Checkpoint {
        /// Execution ARN.
        execution: &'a str,
        /// The token the request carries.
        token: &'a str,
        /// The updates, in order.
        updates: &'a [OperationUpdate],
        /// The client's idempotency token.
        client_token: Option<&'a str>,
        /// Resolves chained-invoke targets against what is deployed.
        functions: &'a dyn Functions,
    },
    /// A handler invocation ended.
    InvocationEnded {
        /// Execution ARN.
        execution: &'a str,
        /// Invocation number.
        invocation: u64,
        /// How.
        result: &'a InvocationResult,
    },
    /// A completion arrived: a chained invoke's target ended.
    Deliver {
        /// Execution ARN.
        execution: &'a str,
        /// What completed.
        completion: &'a Completion,
    },
    /// A timer is due.
    TimerFired {
        /// Execution ARN.
        execution: &'a str,
        /// Timer name.
        timer: &'a str,
    },
    /// An external system completes or heartbeats a callback.
    Callback {
        /// The callback id.
        callback_id: &'a str,
        /// What it sends.
        command: &'a CallbackCommand,
    },
    /// `StopDurableExecution`.
    Stop {
        /// Execution ARN.
        execution: &'a str,
        /// The error the request gives.
        error: Option<&'a ErrorObject>,
    },
    /// The parent of a child execution ended: the child stops and does not report back.
    StopChild {
        /// The child's ARN.
        execution: &'a str,
        /// The parent's error.
        error: &'a ErrorObject,
    },
    /// After a restart: decide again what the execution still needs.
    Recover,
}

impl Command<'_> {
    /// The execution the command is about, by ARN (a start, a callback and a recovery find theirs otherwise).
    pub(super) fn execution(&self) -> Option<&str> {
        match *self {
            Self::Envelope { execution, .. }
            | Self::Checkpoint { execution, .. }
            | Self::InvocationEnded { execution, .. }
            | Self::Deliver { execution, .. }
            | Self::TimerFired { execution, .. }
            | Self::Stop { execution, .. }
            | Self::StopChild { execution, .. } => Some(execution),
            Self::Start { .. } | Self::Callback { .. } | Self::Recover => None,
        }
    }

    /// Which operations of `record`'s execution the decision reads: those it names, else all.
    pub(super) fn operations_needed(&self, record: &ExecutionRecord) -> OperationsNeeded {
        let some = |ids: Vec<String>, changed_after| OperationsNeeded::Some { ids, changed_after };
        match *self {
            Self::Checkpoint { updates, .. } => {
                // The operations updated and their parents, and what the answer reports: all changed since the
                // handler last looked.
                let ids = updates.iter().flat_map(|u| std::iter::once(&u.id).chain(u.parent_id.as_ref()));
                some(ids.cloned().collect(), Some(record.run.seen_seq))
            }
            Self::Deliver { completion, .. } => some(completion_operation(completion).into_iter().collect(), None),
            Self::TimerFired { timer: name, .. } if name != timer::EXECUTION_TIMEOUT => {
                some(timer::operation_id(name).map(str::to_owned).into_iter().collect(), None)
            }
            _ => OperationsNeeded::All,
        }
    }
}

/// The operation a completion is about.
fn completion_operation(completion: &Completion) -> Option<String> {
    match completion {
        Completion::Target { operation, .. } => Some(operation.clone()),
        Completion::Timer { name } => timer::operation_id(name).map(str::to_owned),
    }
}

/// A command a decision sends to another execution, run in the same transaction after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FollowUp {
    /// Start the child execution of a chained invoke.
    StartChild {
        /// Its start request.
        request: StartRequest,
        /// The chained invoke waiting for it.
        parent: ParentLink,
        /// Its name.
        name: String,
        /// Its id.
        id: String,
    },
    /// Tell a parent execution that its child ended.
    Deliver {
        /// The parent's ARN.
        execution: String,
        /// The child's end.
        completion: Completion,
    },
    /// Stop the child of an ending execution.
    StopChild {
        /// The child's ARN.
        execution: String,
        /// The parent's error.
        error: ErrorObject,
    },
}

impl FollowUp {
    /// The command it is.
    pub(super) fn command(&self) -> Command<'_> {
        match self {
            Self::StartChild { request, parent, name, id } => {
                Command::Start { request, parent: Some(parent), identity: Some((name, id)) }
            }
            Self::Deliver { execution, completion } => Command::Deliver { execution, completion },
            Self::StopChild { execution, error } => Command::StopChild { execution, error },
        }
    }
}

/// What the caller of a command gets back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// Nothing beyond the actions.
    Nothing,
    /// The started or existing execution.
    Start(Box<StartOutcome>),
    /// An invocation's envelope, or `None` when that invocation is no longer the current one.
    Envelope(Option<Envelope>),
    /// A checkpoint's answer.
    Checkpoint(CheckpointAnswer),
}

/// A decision: what to answer, store, do and send on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// The answer to the caller.
    pub answer: Answer,
    /// The changes to store, in order.
    pub changes: Vec<Change>,
    /// The actions to carry out once they are stored.
    pub actions: Vec<Action>,
    /// Commands for other executions.
    pub follow_ups: Vec<FollowUp>,
}

impl Decision {
    /// A decision that changes nothing.
    pub(super) fn answer(answer: Answer) -> Self {
        Self { answer, changes: Vec::new(), actions: Vec::new(), follow_ups: Vec::new() }
    }
}

/// The working set of one decision.
pub(crate) struct Ctx<'a> {
    /// The command's time.
    pub now: i64,
    /// The engine's settings.
    pub config: EngineConfig,
    env: &'a Env<'a>,
    /// The execution as the decision has changed it so far.
    pub exec: ExecutionRecord,
    /// The row as loaded; `None` for an execution this decision creates.
    loaded: Option<ExecutionRecord>,
    operations: Vec<StoredOperation>,
    positions: HashMap<String, usize>,
    all_operations: bool,
    timers: BTreeMap<String, i64>,
    inbox: Vec<Completion>,
    changes: Vec<Change>,
    actions: Vec<Action>,
    follow_ups: Vec<FollowUp>,
}

impl<'a> Ctx<'a> {
    /// A decision on a stored execution.
    pub(super) fn new(state: ExecutionState, env: &'a Env<'a>) -> Self {
        let ExecutionState { record, operations, all_operations, timers, inbox } = state;
        let positions = operations.iter().enumerate().map(|(i, s)| (s.op.id.clone(), i)).collect();
        Self {
            now: env.now,
            config: env.config,
            env,
            exec: record.clone(),
            loaded: Some(record),
            operations,
            positions,
            all_operations,
            timers,
            inbox,
            changes: Vec::new(),
            actions: Vec::new(),
            follow_ups: Vec::new(),
        }
    }

    /// A decision creating the execution `record`.
    pub(super) fn create(record: ExecutionRecord, env: &'a Env<'a>) -> Self {
        let mut ctx = Self::new(ExecutionState::bare(record), env);
        ctx.loaded = None;
        ctx.all_operations = true;
        ctx
    }

    /// A new hyphenated id.
    pub(super) fn id(&self) -> String {
        self.env.id()
    }

    /// A new id of 32 hex digits.
    pub(super) fn hex_id(&self) -> String {
        self.env.hex_id()
    }

    /// The operation `id`, as changed so far (`None` also when the command did not load it).
    pub(super) fn op(&self, id: &str) -> Option<Operation> {
        self.positions.get(id).and_then(|&i| self.operations.get(i)).map(|s| s.op.clone())
    }

    /// The operation holding callback `callback_id`.
    pub(super) fn op_by_callback(&self, callback_id: &str) -> Option<Operation> {
        self.operations
            .iter()
            .find(|s| s.op.callback_details.as_ref().and_then(|d| d.callback_id.as_deref()) == Some(callback_id))
            .map(|s| s.op.clone())
    }

    /// Every operation in recorded order; an error when the command loaded only some.
    pub(super) fn operations(&self) -> Result<Vec<Operation>, EngineError> {
        if !self.all_operations {
            return Err(EngineError::Store(
                "the engine read part of an execution's operations where it needs all of them".to_owned().into(),
            ));
        }
        Ok(self.operations.iter().map(|s| s.op.clone()).collect())
    }

    /// The operations changed after `seq`, in recorded order.
    pub(super) fn operations_since(&self, seq: u64) -> Vec<Operation> {
        self.operations.iter().filter(|s| s.seq > seq).map(|s| s.op.clone()).collect()
    }

    /// Stores an operation, stamped as changed now.
    pub(super) fn put_op(&mut self, op: Operation) {
        self.exec.run.op_seq += 1;
        let stored = StoredOperation { op, seq: self.exec.run.op_seq };
        if let Some(&i) = self.positions.get(&stored.op.id) {
            if let Some(slot) = self.operations.get_mut(i) {
                slot.clone_from(&stored);
            }
        } else {
            self.positions.insert(stored.op.id.clone(), self.operations.len());
            self.operations.push(stored.clone());
        }
        self.changes.push(Change::Operation(Box::new(stored)));
    }

    /// Appends an event to the execution's history.
    pub(super) fn record(&mut self, mut event: Event) {
        self.exec.run.events += 1;
        event.event_id = self.exec.run.events;
        self.changes.push(Change::Event(Box::new(event)));
    }

    /// When timer `name` fires, if armed.
    pub(super) fn timer(&self, name: &str) -> Option<i64> {
        self.timers.get(name).copied()
    }

    /// The armed timers' names.
    pub(super) fn timer_names(&self) -> Vec<String> {
        self.timers.keys().cloned().collect()
    }

    /// The armed timers, for the service to watch again.
    pub(super) fn timers(&self) -> impl Iterator<Item = (&String, &i64)> {
        self.timers.iter()
    }

    /// Arms a timer and asks the service to watch it.
    pub(super) fn arm(&mut self, name: &str, at_ms: i64) {
        self.timers.insert(name.to_owned(), at_ms);
        self.changes.push(Change::ArmTimer { name: name.to_owned(), at_ms });
        self.actions.push(Action::ArmTimer { execution: self.exec.arn.clone(), timer: name.to_owned(), at_ms });
    }

    /// Disarms a timer, if armed.
    pub(super) fn disarm(&mut self, name: &str) {
        if self.timers.remove(name).is_some() {
            self.changes.push(Change::DisarmTimer { name: name.to_owned() });
        }
    }

    /// When a timer of an operation fires: at once under time control, else at `at_ms`.
    pub(super) fn operation_timer_at(&self, at_ms: i64) -> i64 {
        if self.config.skip_time { self.now } else { at_ms }
    }

    /// Queues a completion until the handler's invocation ends.
    pub(super) fn queue(&mut self, completion: Completion) {
        self.inbox.push(completion.clone());
        self.changes.push(Change::Queue(completion));
    }

    /// Takes every queued completion, oldest first.
    pub(super) fn take_inbox(&mut self) -> Vec<Completion> {
        if !self.inbox.is_empty() {
            self.changes.push(Change::ClearInbox);
        }
        std::mem::take(&mut self.inbox)
    }

    /// Asks the service to do something once the changes are stored.
    pub(super) fn act(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// Sends a command to another execution.
    pub(super) fn follow(&mut self, follow_up: FollowUp) {
        self.follow_ups.push(follow_up);
    }

    /// The decision: `answer`, and the execution's row among the changes when it is new or changed.
    pub(super) fn decide(self, answer: Answer) -> Decision {
        let Self { exec, loaded, mut changes, actions, follow_ups, .. } = self;
        match loaded {
            None => changes.insert(0, Change::NewExecution(Box::new(exec))),
            Some(loaded) if loaded != exec => changes.push(Change::Execution(Box::new(exec))),
            Some(_) => {}
        }
        Decision { answer, changes, actions, follow_ups }
    }
}
