//! Every command kind as a table: an execution's loaded state and a command, and the decision they must give (the
//! answer, the changes to store, the actions, the commands for other executions). No store, no clock: the time
//! is [`NOW`] and ids count from 1 in every row (`id(1)`, `hex(1)`, ...), so each expectation is written out.
//! Operations and events are written as the API spells them.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::Digest as _;

use super::{Deployed, error_json, update};
use crate::engine::decision::{Answer, Command, Env, FollowUp};
use crate::engine::env::SequentialIds;
use crate::engine::model::{
    CallbackOptions, ChainedInvokeOptions, ContextOptions, ErrorObject, ExecutionStatus, HandlerOutput, Operation,
    OperationAction, OperationType, OperationUpdate, StepOptions, WaitOptions,
};
use crate::engine::state::{
    CachedCheckpoint, Change, Completion, EndResult, ExecutionRecord, ExecutionState, ParentLink, PendingTarget,
    RunState, StoredOperation, TargetEnd,
};
use crate::engine::{
    Action, CallbackCommand, CheckpointAnswer, EngineConfig, EngineError, Envelope, InvocationResult, StartOutcome,
    StartRequest, decide,
};

/// The time of every command.
const NOW: i64 = 1_764_000_060_000;
/// When the execution started, a minute before.
const T0: i64 = NOW - 60_000;
/// Its `ExecutionTimeout` (600 s) from then.
const DEADLINE: i64 = T0 + 600_000;
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:fn-orchestrator";
const ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:fn-orchestrator:3/durable-execution/order-42/e1";
const PARENT: &str = "arn:aws:lambda:us-east-1:000000000000:function:fn-parent:1/durable-execution/p/p1";
const CHILD: &str = "arn:aws:lambda:us-east-1:000000000000:function:fn-child:$LATEST/durable-execution/c/c1";

/// Id number `n` of the row's id source, hyphenated.
fn id(n: u128) -> String {
    uuid::Uuid::from_u128(n).to_string()
}

/// Id number `n` of the row's id source, 32 hex digits.
fn hex(n: u128) -> String {
    uuid::Uuid::from_u128(n).simple().to_string()
}

fn sha256(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// `value`, changed by `f`.
fn with<T>(mut value: T, f: impl FnOnce(&mut T)) -> T {
    f(&mut value);
    value
}

/// Execution `order-42` between handler invocations: invocation 1 ended and the handler saw every change.
fn idle() -> ExecutionRecord {
    ExecutionRecord {
        key: 7,
        arn: ARN.into(),
        function_name: "fn-orchestrator".into(),
        qualifier: "3".into(),
        function_arn: FUNCTION_ARN.into(),
        name: "order-42".into(),
        status: ExecutionStatus::Running,
        input: "{}".into(),
        input_hash: sha256("{}"),
        result: None,
        error: None,
        started_ms: T0,
        ended_ms: None,
        timeout_s: 600,
        retention_days: 7,
        run: RunState {
            invocation: 1,
            request_id: "req-1".into(),
            invocation_started_ms: T0,
            op_seq: 1,
            seen_seq: 1,
            events: 3,
            ..RunState::default()
        },
    }
}

/// The same execution while invocation 1 runs, with token `1.t`.
fn running() -> ExecutionRecord {
    with(idle(), |r| {
        r.run.invoking = true;
        r.run.token = Some("1.t".into());
    })
}

/// The EXECUTION operation, as started.
fn execution_op() -> Value {
    json!({"Id": "e1", "Type": "EXECUTION", "StartTimestamp": T0, "Status": "STARTED",
           "ExecutionDetails": {"InputPayload": "{}"}})
}

/// `record` with its EXECUTION operation (changed at 1) and `ops` (with the counter value each last changed at),
/// all loaded; the execution timeout armed; nothing queued.
fn state(record: ExecutionRecord, ops: Vec<(u64, Value)>) -> ExecutionState {
    let operations = std::iter::once((1, execution_op())).chain(ops).map(|(seq, v)| stored(seq, &v)).collect();
    ExecutionState {
        record,
        operations,
        all_operations: true,
        timers: BTreeMap::from([("timeout".to_owned(), DEADLINE)]),
        inbox: Vec::new(),
    }
}

/// `state`, with timer `name` armed for `at`.
fn timer(mut state: ExecutionState, name: &str, at: i64) -> ExecutionState {
    state.timers.insert(name.to_owned(), at);
    state
}

fn op(value: &Value) -> Operation {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("not an operation ({e}): {value}"))
}

fn stored(seq: u64, value: &Value) -> StoredOperation {
    StoredOperation { op: op(value), seq }
}

fn put(seq: u64, value: &Value) -> Change {
    Change::Operation(Box::new(stored(seq, value)))
}

fn event(value: &Value) -> Change {
    Change::Event(Box::new(
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("not an event ({e}): {value}")),
    ))
}

fn row_of(record: ExecutionRecord) -> Change {
    Change::Execution(Box::new(record))
}

fn arm(name: &str, at_ms: i64) -> Change {
    Change::ArmTimer { name: name.into(), at_ms }
}

fn disarm(name: &str) -> Change {
    Change::DisarmTimer { name: name.into() }
}

fn alarm(name: &str, at_ms: i64) -> Action {
    Action::ArmTimer { execution: ARN.into(), timer: name.into(), at_ms }
}

fn invoke(invocation: u64) -> Action {
    Action::InvokeHandler { execution: ARN.into(), invocation }
}

fn ended() -> Action {
    Action::Ended { execution: ARN.into() }
}

/// `record` after it began invocation 2 now, drawing ids `first` (token) and `first + 1` (request id).
fn next_invocation(record: ExecutionRecord, first: u128) -> ExecutionRecord {
    with(record, |r| {
        r.run.invocation = 2;
        r.run.invoking = true;
        r.run.token = Some(format!("2.{}", hex(first)));
        r.run.request_id = id(first + 1);
        r.run.invocation_started_ms = NOW;
        r.run.last_checkpoint = None;
    })
}

/// The fingerprint a checkpoint request is recognised by when retried.
fn request_hash(updates: &[OperationUpdate]) -> String {
    let mut hasher = sha2::Sha256::new();
    hasher.update(serde_json::to_vec(updates).unwrap());
    hex::encode(hasher.finalize())
}

fn output(status: &str, result: Option<&str>) -> InvocationResult {
    InvocationResult::Output(HandlerOutput { status: status.into(), result: result.map(str::to_owned), error: None })
}

/// One row of a table.
struct Row<'a> {
    what: &'a str,
    config: EngineConfig,
    state: Option<ExecutionState>,
    command: Command<'a>,
    answer: Answer,
    changes: Vec<Change>,
    actions: Vec<Action>,
    follow_ups: Vec<FollowUp>,
}

/// A row whose command answers nothing, changes nothing and does nothing (until told otherwise).
fn row<'a>(what: &'a str, state: Option<ExecutionState>, command: Command<'a>) -> Row<'a> {
    Row {
        what,
        config: EngineConfig::default(),
        state,
        command,
        answer: Answer::Nothing,
        changes: Vec::new(),
        actions: Vec::new(),
        follow_ups: Vec::new(),
    }
}

impl Row<'_> {
    fn answer(self, answer: Answer) -> Self {
        Self { answer, ..self }
    }

    fn changes(self, changes: Vec<Change>) -> Self {
        Self { changes, ..self }
    }

    fn actions(self, actions: Vec<Action>) -> Self {
        Self { actions, ..self }
    }

    fn follow_ups(self, follow_ups: Vec<FollowUp>) -> Self {
        Self { follow_ups, ..self }
    }

    fn config(self, config: EngineConfig) -> Self {
        Self { config, ..self }
    }
}

/// Decides every row and compares.
fn check(rows: Vec<Row<'_>>) {
    for row in rows {
        let ids = SequentialIds::default();
        let env = Env { now: NOW, ids: &ids, config: row.config };
        let what = row.what;
        let decision = decide(row.state, row.command, &env).unwrap_or_else(|e| panic!("{what}: refused: {e}"));
        assert_eq!(decision.changes, row.changes, "{what}: changes");
        assert_eq!(decision.actions, row.actions, "{what}: actions");
        assert_eq!(decision.follow_ups, row.follow_ups, "{what}: follow-ups");
        assert_eq!(decision.answer, row.answer, "{what}: answer");
    }
}

/// Decides every row and expects a refusal: its kind and message.
fn check_refused(rows: Vec<(&str, Option<ExecutionState>, Command<'_>, &str)>) {
    for (what, state, command, expected) in rows {
        let ids = SequentialIds::default();
        let env = Env { now: NOW, ids: &ids, config: EngineConfig::default() };
        let refusal = match decide(state, command, &env) {
            Ok(decision) => panic!("{what}: accepted: {decision:?}"),
            Err(EngineError::NotFound(m)) => format!("NotFound: {m}"),
            Err(EngineError::InvalidParameter(m)) => format!("InvalidParameter: {m}"),
            Err(EngineError::AlreadyStarted(m)) => format!("AlreadyStarted: {m}"),
            Err(e) => format!("{e:?}"),
        };
        assert_eq!(refusal, expected, "{what}");
    }
}

fn request(name: Option<&str>, input: &str) -> StartRequest {
    StartRequest {
        function_name: "fn-orchestrator".into(),
        function_arn: FUNCTION_ARN.into(),
        qualifier: "3".into(),
        name: name.map(str::to_owned),
        input: input.into(),
        timeout_s: 600,
        retention_days: 7,
    }
}

#[test]
fn start() {
    let fresh = request(None, r#"{"a": 1}"#);
    let named = request(Some("order-42"), "{}");
    let parent = ParentLink { execution: PARENT.into(), operation: "i1".into() };
    let arn = |name: &str, id: &str| format!("{FUNCTION_ARN}:3/durable-execution/{name}/{id}");
    let started = |name: String, op_id: String, parent: Option<ParentLink>, first_id: u128| ExecutionRecord {
        key: 0,
        arn: arn(&name, &op_id),
        function_name: "fn-orchestrator".into(),
        qualifier: "3".into(),
        function_arn: FUNCTION_ARN.into(),
        name,
        status: ExecutionStatus::Running,
        input: r#"{"a": 1}"#.into(),
        input_hash: sha256(r#"{"a": 1}"#),
        result: None,
        error: None,
        started_ms: NOW,
        ended_ms: None,
        timeout_s: 600,
        retention_days: 7,
        run: RunState {
            token: Some(format!("1.{}", hex(first_id))),
            invocation: 1,
            invoking: true,
            invocation_started_ms: NOW,
            request_id: id(first_id + 1),
            op_seq: 1,
            events: 1,
            parent,
            ..RunState::default()
        },
    };
    let changes = |record: &ExecutionRecord, op_id: &str| {
        vec![
            Change::NewExecution(Box::new(record.clone())),
            put(
                1,
                &json!({"Id": op_id, "Type": "EXECUTION", "StartTimestamp": NOW, "Status": "STARTED",
                       "ExecutionDetails": {"InputPayload": r#"{"a": 1}"#}}),
            ),
            event(&json!({"EventType": "ExecutionStarted", "EventId": 1, "Id": op_id, "Name": record.name,
                         "EventTimestamp": NOW, "ExecutionStartedDetails": {
                             "Input": {"Payload": r#"{"a": 1}"#, "Truncated": false}, "ExecutionTimeout": 600}})),
            arm("timeout", NOW + 600_000),
        ]
    };
    let actions = |record: &ExecutionRecord| {
        vec![
            Action::ArmTimer { execution: record.arn.clone(), timer: "timeout".into(), at_ms: NOW + 600_000 },
            Action::InvokeHandler { execution: record.arn.clone(), invocation: 1 },
        ]
    };
    let new = started(id(1), id(2), None, 3);
    let child = started("child".into(), "c9".into(), Some(parent.clone()), 1);
    check(vec![
        row(
            "a new execution: its EXECUTION operation, ExecutionStarted, its timeout armed, invocation 1",
            None,
            Command::Start { request: &fresh, parent: None, identity: None },
        )
        .changes(changes(&new, &id(2)))
        .actions(actions(&new))
        .answer(Answer::Start(Box::new(StartOutcome::Started(new.clone())))),
        row(
            "a child: the name and id its parent drew, and the link back to the parent",
            None,
            Command::Start { request: &fresh, parent: Some(&parent), identity: Some(("child", "c9")) },
        )
        .changes(changes(&child, "c9"))
        .actions(actions(&child))
        .answer(Answer::Start(Box::new(StartOutcome::Started(child.clone())))),
        row(
            "a name taken with the same input: that execution, nothing changed",
            Some(ExecutionState::bare(idle())),
            Command::Start { request: &named, parent: None, identity: None },
        )
        .answer(Answer::Start(Box::new(StartOutcome::Existing(idle())))),
    ]);
    let other_input = request(Some("order-42"), r#"{"a": 2}"#);
    let bad_name = request(Some("has space"), "{}");
    check_refused(vec![
        (
            "a name taken with another input",
            Some(ExecutionState::bare(idle())),
            Command::Start { request: &other_input, parent: None, identity: None },
            &format!(
                "AlreadyStarted: Durable execution with name order-42 already exists with a different input: {ARN}"
            ),
        ),
        (
            "a name outside the pattern",
            None,
            Command::Start { request: &bad_name, parent: None, identity: None },
            "InvalidParameter: 1 validation error detected: Value 'has space' at 'durableExecutionName' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (1 to 64 characters)",
        ),
    ]);
}

#[test]
fn envelope() {
    let step = json!({"Id": "s1", "Type": "STEP", "StartTimestamp": T0, "Status": "STARTED",
                      "StepDetails": {"Attempt": 0}});
    let current = state(with(running(), |r| r.run.op_seq = 2), vec![(2, step.clone())]);
    let envelope = Envelope {
        execution: ARN.into(),
        token: "1.t".into(),
        request_id: "req-1".into(),
        operations: vec![op(&execution_op()), op(&step)],
        next_marker: None,
    };
    let ended = with(running(), |r| r.status = ExecutionStatus::Succeeded);
    let envelope_of = |invocation| Command::Envelope { execution: ARN, invocation };
    check(vec![
        row(
            "the current invocation: every operation, and the handler has seen them",
            Some(current.clone()),
            envelope_of(1),
        )
        .changes(vec![row_of(with(running(), |r| {
            r.run.op_seq = 2;
            r.run.seen_seq = 2;
        }))])
        .answer(Answer::Envelope(Some(envelope))),
        row("an invocation no longer current: none", Some(current), envelope_of(2)).answer(Answer::Envelope(None)),
        row("an ended execution: none", Some(state(ended, vec![])), envelope_of(1)).answer(Answer::Envelope(None)),
        row("an unknown execution: none", None, envelope_of(1)).answer(Answer::Envelope(None)),
    ]);
}

/// The execution's row after a checkpoint that moved the change counter to `op_seq`, recorded `events` events,
/// drew the next token from id `token_id` and answered with `operations`.
fn checkpointed(
    record: ExecutionRecord,
    updates: &[OperationUpdate],
    op_seq: u64,
    events: i64,
    token_id: u128,
    operations: &[Value],
) -> ExecutionRecord {
    with(record, |r| {
        r.run.op_seq = op_seq;
        r.run.seen_seq = op_seq;
        r.run.events = events;
        r.run.token = Some(format!("1.{}", hex(token_id)));
        r.run.last_checkpoint = Some(CachedCheckpoint {
            token_in: "1.t".into(),
            request_hash: request_hash(updates),
            token_out: format!("1.{}", hex(token_id)),
            operations: operations.iter().map(op).collect(),
        });
    })
}

fn answer(token_id: u128, operations: &[Value]) -> Answer {
    Answer::Checkpoint(CheckpointAnswer {
        token: format!("1.{}", hex(token_id)),
        operations: operations.iter().map(op).collect(),
    })
}

#[test]
fn checkpoint() {
    let checkpoint = |updates| Command::Checkpoint {
        execution: ARN,
        token: "1.t",
        updates,
        client_token: None,
        functions: &Deployed,
    };

    let step_in_one = [
        OperationUpdate { sub_type: Some("Step".into()), ..update("s1", OperationType::Step, OperationAction::Start) },
        OperationUpdate {
            payload: Some("[1, 2]".into()),
            ..update("s1", OperationType::Step, OperationAction::Succeed)
        },
    ];
    let step_started = json!({"Id": "s1", "Name": "s1-name", "Type": "STEP", "SubType": "Step",
                              "StartTimestamp": NOW, "Status": "STARTED", "StepDetails": {"Attempt": 0}});
    let step_succeeded = json!({"Id": "s1", "Name": "s1-name", "Type": "STEP", "SubType": "Step",
                                "StartTimestamp": NOW, "EndTimestamp": NOW, "Status": "SUCCEEDED",
                                "StepDetails": {"Attempt": 0, "Result": "[1, 2]"}});

    let retry = [OperationUpdate {
        error: Some(ErrorObject::new("Boom", "attempt 1 failed")),
        step_options: Some(StepOptions { next_attempt_delay_seconds: Some(2) }),
        ..update("s1", OperationType::Step, OperationAction::Retry)
    }];
    let open_step = json!({"Id": "s1", "Name": "s1-name", "Type": "STEP", "StartTimestamp": T0, "Status": "STARTED",
                           "StepDetails": {"Attempt": 0}});
    let step_pending = json!({"Id": "s1", "Name": "s1-name", "Type": "STEP", "StartTimestamp": T0,
                              "Status": "PENDING", "StepDetails": {"Attempt": 1, "NextAttemptTimestamp": NOW + 2000,
                              "Error": error_json("Boom", "attempt 1 failed")}});
    let with_step = |record: ExecutionRecord| {
        state(
            with(record, |r| {
                r.run.op_seq = 2;
                r.run.seen_seq = 2;
            }),
            vec![(2, open_step.clone())],
        )
    };

    let wait = [OperationUpdate {
        wait_options: Some(WaitOptions { wait_seconds: Some(3600) }),
        ..update("w1", OperationType::Wait, OperationAction::Start)
    }];
    let wait_started = json!({"Id": "w1", "Name": "w1-name", "Type": "WAIT", "StartTimestamp": NOW,
                              "Status": "STARTED", "WaitDetails": {"ScheduledEndTimestamp": NOW + 3_600_000}});
    let wait_started_event = json!({"EventType": "WaitStarted", "EventId": 4, "Id": "w1", "Name": "w1-name",
                                    "EventTimestamp": NOW, "WaitStartedDetails": {"Duration": 3600,
                                    "ScheduledEndTimestamp": NOW + 3_600_000}});

    let cancel = [update("w1", OperationType::Wait, OperationAction::Cancel)];
    let open_wait = json!({"Id": "w1", "Name": "w1-name", "Type": "WAIT", "StartTimestamp": T0, "Status": "STARTED",
                           "WaitDetails": {"ScheduledEndTimestamp": T0 + 3_600_000}});
    let wait_cancelled = json!({"Id": "w1", "Name": "w1-name", "Type": "WAIT", "StartTimestamp": T0,
                                "EndTimestamp": NOW, "Status": "CANCELLED",
                                "WaitDetails": {"ScheduledEndTimestamp": T0 + 3_600_000}});

    let callback = [OperationUpdate {
        callback_options: Some(CallbackOptions { timeout_seconds: Some(300), heartbeat_timeout_seconds: Some(10) }),
        ..update("c1", OperationType::Callback, OperationAction::Start)
    }];
    let callback_id = format!("{}{}", hex(1), hex(2));
    let callback_started = json!({"Id": "c1", "Name": "c1-name", "Type": "CALLBACK", "StartTimestamp": NOW,
                                  "Status": "STARTED", "CallbackDetails": {"CallbackId": callback_id}});

    let plain = [OperationUpdate {
        payload: Some("7".into()),
        chained_invoke_options: Some(ChainedInvokeOptions {
            function_name: Some("fn-processor".into()),
            tenant_id: Some("t".into()),
        }),
        ..update("i1", OperationType::ChainedInvoke, OperationAction::Start)
    }];
    let invoke_started = json!({"Id": "i1", "Name": "i1-name", "Type": "CHAINED_INVOKE", "StartTimestamp": NOW,
                                "Status": "STARTED", "ChainedInvokeDetails": {}});
    let durable = [OperationUpdate {
        payload: Some(r#"{"n": 1}"#.into()),
        chained_invoke_options: Some(ChainedInvokeOptions { function_name: Some("fn-child".into()), tenant_id: None }),
        ..update("i1", OperationType::ChainedInvoke, OperationAction::Start)
    }];
    let child = format!(
        "arn:aws:lambda:us-east-1:000000000000:function:fn-child:$LATEST/durable-execution/{}/{}",
        id(1),
        id(2)
    );
    let unknown = [OperationUpdate {
        chained_invoke_options: Some(ChainedInvokeOptions { function_name: Some("nope".into()), tenant_id: None }),
        ..update("i1", OperationType::ChainedInvoke, OperationAction::Start)
    }];
    let not_found = error_json("ResourceNotFoundException", "Function not found: nope");
    let invoke_failed = json!({"Id": "i1", "Name": "i1-name", "Type": "CHAINED_INVOKE", "StartTimestamp": NOW,
                               "EndTimestamp": NOW, "Status": "FAILED",
                               "ChainedInvokeDetails": {"Error": not_found}});

    let context = [
        OperationUpdate {
            sub_type: Some("RunInChildContext".into()),
            context_options: Some(ContextOptions { replay_children: Some(true) }),
            ..update("x1", OperationType::Context, OperationAction::Start)
        },
        OperationUpdate {
            payload: Some("\"done\"".into()),
            ..update("x1", OperationType::Context, OperationAction::Succeed)
        },
    ];
    let context_started = json!({"Id": "x1", "Name": "x1-name", "Type": "CONTEXT", "SubType": "RunInChildContext",
                                 "StartTimestamp": NOW, "Status": "STARTED",
                                 "ContextDetails": {"ReplayChildren": true}});
    let context_succeeded = json!({"Id": "x1", "Name": "x1-name", "Type": "CONTEXT",
                                   "SubType": "RunInChildContext", "StartTimestamp": NOW, "EndTimestamp": NOW,
                                   "Status": "SUCCEEDED",
                                   "ContextDetails": {"ReplayChildren": true, "Result": "\"done\""}});

    let done = [OperationUpdate {
        name: None,
        payload: Some("\"big\"".into()),
        ..update("e1", OperationType::Execution, OperationAction::Succeed)
    }];

    // A retried request: the token it carried is spent, its answer kept.
    let retried = state(
        with(running(), |r| {
            r.run.token = Some("1.next".into());
            r.run.last_checkpoint = Some(CachedCheckpoint {
                token_in: "1.t".into(),
                request_hash: request_hash(&wait),
                token_out: "1.next".into(),
                operations: vec![op(&wait_started)],
            });
        }),
        vec![(2, wait_started.clone())],
    );

    check(vec![
        row("STEP START and SUCCEED in one batch: StepStarted, StepSucceeded, the step in the answer", Some(state(running(), vec![])), checkpoint(&step_in_one))
            .changes(vec![
                put(2, &step_started),
                event(&json!({"EventType": "StepStarted", "SubType": "Step", "EventId": 4, "Id": "s1",
                             "Name": "s1-name", "EventTimestamp": NOW, "StepStartedDetails": {}})),
                put(3, &step_succeeded),
                event(&json!({"EventType": "StepSucceeded", "SubType": "Step", "EventId": 5, "Id": "s1",
                             "Name": "s1-name", "EventTimestamp": NOW, "StepSucceededDetails": {
                                 "Result": {"Payload": "[1, 2]", "Truncated": false},
                                 "RetryDetails": {"CurrentAttempt": 1}}})),
                row_of(checkpointed(running(), &step_in_one, 3, 5, 1, std::slice::from_ref(&step_succeeded))),
            ])
            .answer(answer(1, &[step_succeeded])),
        row("STEP RETRY: PENDING with the attempt counted, StepFailed with its retry details, a timer for the next attempt", Some(with_step(running())), checkpoint(&retry))
            .changes(vec![
                arm("op:s1", NOW + 2000),
                put(3, &step_pending),
                event(&json!({"EventType": "StepFailed", "EventId": 4, "Id": "s1", "Name": "s1-name",
                             "EventTimestamp": NOW, "StepFailedDetails": {
                                 "Error": {"Payload": error_json("Boom", "attempt 1 failed"), "Truncated": false},
                                 "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2}}})),
                row_of(checkpointed(with_step(running()).record, &retry, 3, 4, 1, std::slice::from_ref(&step_pending))),
            ])
            .actions(vec![alarm("op:s1", NOW + 2000)])
            .answer(answer(1, &[step_pending])),
        row("WAIT START: the scheduled end in the operation and the history, a timer at that end", Some(state(running(), vec![])), checkpoint(&wait))
            .changes(vec![
                put(2, &wait_started),
                event(&wait_started_event),
                arm("op:w1", NOW + 3_600_000),
                row_of(checkpointed(running(), &wait, 2, 4, 1, std::slice::from_ref(&wait_started))),
            ])
            .actions(vec![alarm("op:w1", NOW + 3_600_000)])
            .answer(answer(1, std::slice::from_ref(&wait_started))),
        row("WAIT START under time control: the timer fires now, the history keeps the schedule", Some(state(running(), vec![])), checkpoint(&wait))
            .config(EngineConfig { skip_time: true, ..EngineConfig::default() })
            .changes(vec![
                put(2, &wait_started),
                event(&wait_started_event),
                arm("op:w1", NOW),
                row_of(checkpointed(running(), &wait, 2, 4, 1, std::slice::from_ref(&wait_started))),
            ])
            .actions(vec![alarm("op:w1", NOW)])
            .answer(answer(1, std::slice::from_ref(&wait_started))),
        row(
            "WAIT CANCEL: CANCELLED, WaitCancelled, its timer disarmed",
            Some(timer(state(with(running(), |r| r.run.op_seq = 2), vec![(2, open_wait)]), "op:w1", T0 + 3_600_000)),
            checkpoint(&cancel),
        )
        .changes(vec![
            disarm("op:w1"),
            put(3, &wait_cancelled),
            event(&json!({"EventType": "WaitCancelled", "EventId": 4, "Id": "w1", "Name": "w1-name",
                         "EventTimestamp": NOW, "WaitCancelledDetails": {}})),
            row_of(checkpointed(with(running(), |r| r.run.op_seq = 2), &cancel, 3, 4, 1, std::slice::from_ref(&wait_cancelled))),
        ])
        .answer(answer(1, &[wait_cancelled])),
        row("CALLBACK START: a callback id, CallbackStarted, its timeout and heartbeat timers", Some(state(running(), vec![])), checkpoint(&callback))
            .changes(vec![
                put(2, &callback_started),
                event(&json!({"EventType": "CallbackStarted", "EventId": 4, "Id": "c1", "Name": "c1-name",
                             "EventTimestamp": NOW, "CallbackStartedDetails": {"CallbackId": callback_id,
                             "HeartbeatTimeout": 10, "Timeout": 300}})),
                arm("cb:c1", NOW + 300_000),
                arm("hb:c1", NOW + 10_000),
                row_of(with(checkpointed(running(), &callback, 2, 4, 3, std::slice::from_ref(&callback_started)), |r| {
                    r.run.heartbeats.insert("c1".into(), 10);
                })),
            ])
            .actions(vec![alarm("cb:c1", NOW + 300_000), alarm("hb:c1", NOW + 10_000)])
            .answer(answer(3, &[callback_started])),
        row("CHAINED_INVOKE of a plain function: the target invoked, and remembered until it answers", Some(state(running(), vec![])), checkpoint(&plain))
            .changes(vec![
                put(2, &invoke_started),
                event(&json!({"EventType": "ChainedInvokeStarted", "EventId": 4, "Id": "i1", "Name": "i1-name",
                             "EventTimestamp": NOW, "ChainedInvokeStartedDetails": {"FunctionName": "fn-processor",
                             "TenantId": "t", "Input": {"Payload": "7", "Truncated": false},
                             "ExecutedVersion": "1", "DurableExecutionArn": ARN}})),
                row_of(with(checkpointed(running(), &plain, 2, 4, 1, std::slice::from_ref(&invoke_started)), |r| {
                    r.run.targets.insert(
                        "i1".into(),
                        PendingTarget {
                            function_name: "fn-processor".into(),
                            qualifier: "1".into(),
                            payload: Some("7".into()),
                            tenant_id: Some("t".into()),
                        },
                    );
                })),
            ])
            .actions(vec![Action::InvokeTarget {
                execution: ARN.into(),
                operation: "i1".into(),
                function_name: "fn-processor".into(),
                qualifier: "1".into(),
                payload: Some("7".into()),
                tenant_id: Some("t".into()),
            }])
            .answer(answer(1, std::slice::from_ref(&invoke_started))),
        row("CHAINED_INVOKE of a durable function: its child execution started after this decision, named in the history", Some(state(running(), vec![])), checkpoint(&durable))
            .changes(vec![
                put(2, &invoke_started),
                event(&json!({"EventType": "ChainedInvokeStarted", "EventId": 4, "Id": "i1", "Name": "i1-name",
                             "EventTimestamp": NOW, "ChainedInvokeStartedDetails": {"FunctionName": "fn-child",
                             "Input": {"Payload": r#"{"n": 1}"#, "Truncated": false},
                             "ExecutedVersion": "$LATEST", "DurableExecutionArn": child}})),
                row_of(with(checkpointed(running(), &durable, 2, 4, 3, std::slice::from_ref(&invoke_started)), |r| {
                    r.run.children.insert("i1".into(), child.clone());
                })),
            ])
            .follow_ups(vec![FollowUp::StartChild {
                request: StartRequest {
                    function_name: "fn-child".into(),
                    function_arn: "arn:aws:lambda:us-east-1:000000000000:function:fn-child".into(),
                    qualifier: "$LATEST".into(),
                    name: None,
                    input: r#"{"n": 1}"#.into(),
                    timeout_s: 60,
                    retention_days: 1,
                },
                parent: ParentLink { execution: ARN.into(), operation: "i1".into() },
                name: id(1),
                id: id(2),
            }])
            .answer(answer(3, &[invoke_started])),
        row("CHAINED_INVOKE of an unknown function: FAILED in the answer to this very checkpoint", Some(state(running(), vec![])), checkpoint(&unknown))
            .changes(vec![
                put(2, &invoke_failed),
                event(&json!({"EventType": "ChainedInvokeStarted", "EventId": 4, "Id": "i1", "Name": "i1-name",
                             "EventTimestamp": NOW, "ChainedInvokeStartedDetails": {"FunctionName": "nope",
                             "Input": {"Truncated": false}, "DurableExecutionArn": ARN}})),
                event(&json!({"EventType": "ChainedInvokeFailed", "EventId": 5, "Id": "i1", "Name": "i1-name",
                             "EventTimestamp": NOW, "ChainedInvokeFailedDetails": {
                                 "Error": {"Payload": not_found, "Truncated": false}}})),
                row_of(checkpointed(running(), &unknown, 2, 5, 1, std::slice::from_ref(&invoke_failed))),
            ])
            .answer(answer(1, &[invoke_failed])),
        row("CONTEXT START and SUCCEED: ContextStarted, ContextSucceeded with the result", Some(state(running(), vec![])), checkpoint(&context))
            .changes(vec![
                put(2, &context_started),
                event(&json!({"EventType": "ContextStarted", "SubType": "RunInChildContext", "EventId": 4,
                             "Id": "x1", "Name": "x1-name", "EventTimestamp": NOW, "ContextStartedDetails": {}})),
                put(3, &context_succeeded),
                event(&json!({"EventType": "ContextSucceeded", "SubType": "RunInChildContext", "EventId": 5,
                             "Id": "x1", "Name": "x1-name", "EventTimestamp": NOW, "ContextSucceededDetails": {
                                 "Result": {"Payload": "\"done\"", "Truncated": false}}})),
                row_of(checkpointed(running(), &context, 3, 5, 1, std::slice::from_ref(&context_succeeded))),
            ])
            .answer(answer(1, &[context_succeeded])),
        row("EXECUTION SUCCEED: the outcome kept for the end of the invocation, no operation changed", Some(state(running(), vec![])), checkpoint(&done))
            .changes(vec![row_of(with(checkpointed(running(), &done, 1, 3, 1, &[]), |r| {
                r.run.checkpointed_outcome = Some(EndResult::Succeeded(Some("\"big\"".into())));
            }))])
            .answer(answer(1, &[])),
        row("the same request again: the same answer, nothing applied twice", Some(retried), checkpoint(&wait)).answer(
            Answer::Checkpoint(CheckpointAnswer { token: "1.next".into(), operations: vec![op(&wait_started)] }),
        ),
    ]);

    let succeeded_step = state(
        with(running(), |r| r.run.op_seq = 2),
        vec![(
            2,
            json!({"Id": "s1", "Name": "s1-name", "Type": "STEP",
        "StartTimestamp": T0, "EndTimestamp": T0, "Status": "SUCCEEDED", "StepDetails": {"Attempt": 0}}),
        )],
    );
    let close_step = [update("s1", OperationType::Step, OperationAction::Succeed)];
    let wait_succeed = [update("w1", OperationType::Wait, OperationAction::Succeed)];
    let callback_retry = [update("c1", OperationType::Callback, OperationAction::Retry)];
    let wait_on_step = [update("s1", OperationType::Wait, OperationAction::Start)];
    let execution_first = [
        update("x", OperationType::Execution, OperationAction::Succeed),
        update("y", OperationType::Step, OperationAction::Start),
    ];
    let orphan = [OperationUpdate {
        parent_id: Some("missing".into()),
        ..update("z", OperationType::Step, OperationAction::Start)
    }];
    let idle_state = || Some(state(idle(), vec![]));
    let stale = Command::Checkpoint {
        execution: ARN,
        token: "0.old",
        updates: &wait,
        client_token: None,
        functions: &Deployed,
    };
    check_refused(vec![
        (
            "a token not the current one",
            Some(state(running(), vec![])),
            stale,
            "InvalidParameter: Invalid checkpoint token",
        ),
        (
            "a checkpoint between invocations",
            idle_state(),
            checkpoint(&wait),
            "InvalidParameter: Invalid checkpoint token",
        ),
        ("an unknown execution", None, checkpoint(&wait), &format!("NotFound: Durable execution not found: {ARN}")),
        (
            "closing a step that ended",
            Some(succeeded_step.clone()),
            checkpoint(&close_step),
            "InvalidParameter: Invalid current STEP state to close.",
        ),
        (
            "a wait told to succeed",
            Some(state(running(), vec![])),
            checkpoint(&wait_succeed),
            "InvalidParameter: Invalid WAIT action.",
        ),
        (
            "a callback told to retry",
            Some(state(running(), vec![])),
            checkpoint(&callback_retry),
            "InvalidParameter: Invalid action for CALLBACK operation.",
        ),
        (
            "a step's id for a wait",
            Some(succeeded_step),
            checkpoint(&wait_on_step),
            "InvalidParameter: Inconsistent operation type.",
        ),
        (
            "an EXECUTION update before another",
            Some(state(running(), vec![])),
            checkpoint(&execution_first),
            "InvalidParameter: EXECUTION checkpoint must be the last update.",
        ),
        (
            "a parent that does not exist",
            Some(state(running(), vec![])),
            checkpoint(&orphan),
            "InvalidParameter: Invalid parent operation id missing.",
        ),
    ]);
}

#[test]
fn invocation_ended() {
    let end = |invocation, result| Command::InvocationEnded { execution: ARN, invocation, result };
    let succeeded = output("SUCCEEDED", Some("3"));
    let empty = output("SUCCEEDED", Some(""));
    let failed = InvocationResult::Output(HandlerOutput {
        status: "FAILED".into(),
        result: None,
        error: Some(ErrorObject::new("Invalid", "no such order")),
    });
    let pending = output("PENDING", None);
    let crash = InvocationResult::Failed(ErrorObject::new("Runtime.ExitError", "exit status 101"));
    let completed = |id: i64, error: Option<Value>| {
        let mut details = json!({"StartTimestamp": T0, "EndTimestamp": NOW, "RequestId": "req-1"});
        if let Some(error) = error {
            details["Error"] = json!({"Payload": error, "Truncated": false});
        }
        event(&json!({"EventType": "InvocationCompleted", "EventId": id, "EventTimestamp": NOW,
                     "InvocationCompletedDetails": details}))
    };
    let execution_ended = |status: &str| {
        json!({"Id": "e1", "Type": "EXECUTION", "StartTimestamp": T0, "EndTimestamp": NOW, "Status": status,
               "ExecutionDetails": {"InputPayload": "{}"}})
    };
    let done = |record: ExecutionRecord, status: ExecutionStatus| {
        with(record, |r| {
            r.status = status;
            r.ended_ms = Some(NOW);
            r.run.invoking = false;
            r.run.token = None;
            r.run.op_seq = 2;
            r.run.events = 5;
        })
    };
    let succeeded_event = |result: &str| {
        event(&json!({"EventType": "ExecutionSucceeded", "EventId": 5, "Id": "e1", "Name": "order-42",
                     "EventTimestamp": NOW, "ExecutionSucceededDetails": {
                         "Result": {"Payload": result, "Truncated": false}}}))
    };
    let child =
        with(running(), |r| r.run.parent = Some(ParentLink { execution: PARENT.into(), operation: "i1".into() }));
    let big = with(running(), |r| r.run.checkpointed_outcome = Some(EndResult::Succeeded(Some("\"big\"".into()))));
    let open_wait = json!({"Id": "w1", "Type": "WAIT", "StartTimestamp": T0, "Status": "STARTED",
                           "WaitDetails": {"ScheduledEndTimestamp": T0 + 3_600_000}});
    let open_invoke = json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "Status": "STARTED",
                             "ChainedInvokeDetails": {}});
    let target =
        PendingTarget { function_name: "fn-processor".into(), qualifier: "1".into(), payload: None, tenant_id: None };
    let awaiting = with(running(), |r| {
        r.run.op_seq = 2;
        r.run.seen_seq = 2;
        r.run.targets.insert("i1".into(), target.clone());
    });
    let mut queued = state(awaiting.clone(), vec![(2, open_invoke)]);
    queued.inbox = vec![Completion::Target { operation: "i1".into(), outcome: TargetEnd::Succeeded(Some("7".into())) }];
    let invoke_done = json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "EndTimestamp": NOW,
                             "Status": "SUCCEEDED", "ChainedInvokeDetails": {"Result": "7"}});
    let invalid_output = error_json(
        "Runtime.InvalidOutput",
        "the handler returned PENDING while no operation is pending (no wait, callback, retry or chained invoke to \
         resume from)",
    );
    let exit = error_json("Runtime.ExitError", "exit status 101");
    let failing = |failures| with(running(), |r| r.run.failures = failures);
    let seen_2 = |r: &mut ExecutionRecord| {
        r.run.op_seq = 2;
        r.run.seen_seq = 2;
    };
    let backed_off = |failures| {
        with(running(), |r| {
            r.run.invoking = false;
            r.run.token = None;
            r.run.failures = failures;
            r.run.events = 4;
        })
    };
    check(vec![
        row(
            "SUCCEEDED: InvocationCompleted, the execution SUCCEEDED with the handler's result, its timers disarmed",
            Some(state(running(), vec![])),
            end(1, &succeeded),
        )
        .changes(vec![
            completed(4, None),
            put(2, &execution_ended("SUCCEEDED")),
            succeeded_event("3"),
            disarm("timeout"),
            row_of(with(done(running(), ExecutionStatus::Succeeded), |r| r.result = Some("3".into()))),
        ])
        .actions(vec![ended()]),
        row(
            "SUCCEEDED with an empty result: the result checkpointed on the EXECUTION operation",
            Some(state(big, vec![])),
            end(1, &empty),
        )
        .changes(vec![
            completed(4, None),
            put(2, &execution_ended("SUCCEEDED")),
            succeeded_event("\"big\""),
            disarm("timeout"),
            row_of(with(done(running(), ExecutionStatus::Succeeded), |r| r.result = Some("\"big\"".into()))),
        ])
        .actions(vec![ended()]),
        row("FAILED: the execution FAILED with the handler's error", Some(state(running(), vec![])), end(1, &failed))
            .changes(vec![
                completed(4, None),
                put(2, &execution_ended("FAILED")),
                event(&json!({"EventType": "ExecutionFailed", "EventId": 5, "Id": "e1", "Name": "order-42",
                             "EventTimestamp": NOW, "ExecutionFailedDetails": {
                                 "Error": {"Payload": error_json("Invalid", "no such order"), "Truncated": false}}})),
                disarm("timeout"),
                row_of(with(done(running(), ExecutionStatus::Failed), |r| {
                    r.error = Some(ErrorObject::new("Invalid", "no such order"));
                })),
            ])
            .actions(vec![ended()]),
        row("a child's end: told to the parent waiting on it", Some(state(child.clone(), vec![])), end(1, &succeeded))
            .changes(vec![
                completed(4, None),
                put(2, &execution_ended("SUCCEEDED")),
                succeeded_event("3"),
                disarm("timeout"),
                row_of(with(done(child, ExecutionStatus::Succeeded), |r| r.result = Some("3".into()))),
            ])
            .actions(vec![ended()])
            .follow_ups(vec![FollowUp::Deliver {
                execution: PARENT.into(),
                completion: Completion::Target {
                    operation: "i1".into(),
                    outcome: TargetEnd::Succeeded(Some("3".into())),
                },
            }]),
        row(
            "PENDING with a wait open: InvocationCompleted, the failures forgotten, nothing to run yet",
            Some(state(with(failing(2), seen_2), vec![(2, open_wait)])),
            end(1, &pending),
        )
        .changes(vec![completed(4, None), row_of(with(backed_off(0), seen_2))]),
        row("PENDING with a completion queued: it applies, and the handler runs again", Some(queued), end(1, &pending))
            .changes(vec![
                completed(4, None),
                Change::ClearInbox,
                put(3, &invoke_done),
                event(&json!({"EventType": "ChainedInvokeSucceeded", "EventId": 5, "Id": "i1", "EventTimestamp": NOW,
                             "ChainedInvokeSucceededDetails": {"Result": {"Payload": "7", "Truncated": false}}})),
                row_of(with(next_invocation(awaiting, 1), |r| {
                    r.run.op_seq = 3;
                    r.run.events = 5;
                    r.run.targets.clear();
                })),
            ])
            .actions(vec![invoke(2)]),
        row(
            "PENDING with nothing to resume from: a failed invocation, tried again in a second",
            Some(state(running(), vec![])),
            end(1, &pending),
        )
        .changes(vec![completed(4, Some(invalid_output)), arm("invoke", NOW + 1000), row_of(backed_off(1))])
        .actions(vec![alarm("invoke", NOW + 1000)]),
        row(
            "a third crash in a row: InvocationCompleted with the error, the next attempt after 4 s",
            Some(state(failing(2), vec![])),
            end(1, &crash),
        )
        .changes(vec![completed(4, Some(exit.clone())), arm("invoke", NOW + 4000), row_of(backed_off(3))])
        .actions(vec![alarm("invoke", NOW + 4000)]),
        row(
            "the last crash allowed: the execution FAILED with the crash's error",
            Some(state(failing(2), vec![])),
            end(1, &crash),
        )
        .config(EngineConfig { max_invocation_failures: 3, ..EngineConfig::default() })
        .changes(vec![
            completed(4, Some(exit.clone())),
            put(2, &execution_ended("FAILED")),
            event(&json!({"EventType": "ExecutionFailed", "EventId": 5, "Id": "e1", "Name": "order-42",
                             "EventTimestamp": NOW, "ExecutionFailedDetails": {
                                 "Error": {"Payload": exit, "Truncated": false}}})),
            disarm("timeout"),
            row_of(with(done(failing(3), ExecutionStatus::Failed), |r| {
                r.error = Some(ErrorObject::new("Runtime.ExitError", "exit status 101"));
            })),
        ])
        .actions(vec![ended()]),
        row("an invocation no longer current: ignored", Some(state(running(), vec![])), end(2, &succeeded)),
        row(
            "an invocation of an ended execution: ignored",
            Some(state(with(idle(), |r| r.status = ExecutionStatus::TimedOut), vec![])),
            end(1, &succeeded),
        ),
        row("an unknown execution: ignored", None, end(1, &succeeded)),
    ]);
}

#[test]
fn deliver() {
    let answered = Completion::Target { operation: "i1".into(), outcome: TargetEnd::Succeeded(Some("7".into())) };
    let failed = Completion::Target {
        operation: "i1".into(),
        outcome: TargetEnd::Failed(ErrorObject::new("Boom", "the target failed")),
    };
    let deliver = |completion| Command::Deliver { execution: ARN, completion };
    let open_invoke = json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "Status": "STARTED",
                             "ChainedInvokeDetails": {}});
    let stopped_invoke = json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "EndTimestamp": T0,
                                "Status": "STOPPED", "ChainedInvokeDetails": {}});
    let awaiting = |record: ExecutionRecord| {
        with(record, |r| {
            r.run.op_seq = 2;
            r.run.seen_seq = 2;
            r.run.targets.insert(
                "i1".into(),
                PendingTarget {
                    function_name: "fn-processor".into(),
                    qualifier: "1".into(),
                    payload: None,
                    tenant_id: None,
                },
            );
        })
    };
    let after = |record: ExecutionRecord| {
        with(next_invocation(record, 1), |r| {
            r.run.op_seq = 3;
            r.run.events = 4;
            r.run.targets.clear();
        })
    };
    check(vec![
        row("while the handler runs: queued for the end of its invocation", Some(state(awaiting(running()), vec![(2, open_invoke.clone())])), deliver(&answered))
            .changes(vec![Change::Queue(answered.clone())]),
        row("between invocations: SUCCEEDED with the result, and the handler runs again", Some(state(awaiting(idle()), vec![(2, open_invoke.clone())])), deliver(&answered))
            .changes(vec![
                put(3, &json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "SUCCEEDED", "ChainedInvokeDetails": {"Result": "7"}})),
                event(&json!({"EventType": "ChainedInvokeSucceeded", "EventId": 4, "Id": "i1", "EventTimestamp": NOW,
                             "ChainedInvokeSucceededDetails": {"Result": {"Payload": "7", "Truncated": false}}})),
                row_of(after(awaiting(idle()))),
            ])
            .actions(vec![invoke(2)]),
        row("a failed target: FAILED with its error", Some(state(awaiting(idle()), vec![(2, open_invoke.clone())])), deliver(&failed))
            .changes(vec![
                put(3, &json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "FAILED", "ChainedInvokeDetails": {"Error": error_json("Boom", "the target failed")}})),
                event(&json!({"EventType": "ChainedInvokeFailed", "EventId": 4, "Id": "i1", "EventTimestamp": NOW,
                             "ChainedInvokeFailedDetails": {
                                 "Error": {"Payload": error_json("Boom", "the target failed"), "Truncated": false}}})),
                row_of(after(awaiting(idle()))),
            ])
            .actions(vec![invoke(2)]),
        row("to an operation a stop ended first: ignored", Some(state(awaiting(idle()), vec![(2, stopped_invoke)])), deliver(&answered)),
        row("to an ended execution: ignored", Some(state(with(awaiting(idle()), |r| r.status = ExecutionStatus::Stopped), vec![(2, open_invoke)])), deliver(&answered)),
        row("to an unknown execution: ignored", None, deliver(&answered)),
    ]);
}

#[test]
fn timer_fired() {
    let fired = |timer| Command::TimerFired { execution: ARN, timer };
    let at_op_seq_2 = |record: ExecutionRecord| {
        with(record, |r| {
            r.run.op_seq = 2;
            r.run.seen_seq = 2;
        })
    };
    let open_wait = json!({"Id": "w1", "Type": "WAIT", "StartTimestamp": T0, "Status": "STARTED",
                           "WaitDetails": {"ScheduledEndTimestamp": NOW}});
    let waiting = |record| timer(state(at_op_seq_2(record), vec![(2, open_wait.clone())]), "op:w1", NOW);
    let pending_step = json!({"Id": "s1", "Type": "STEP", "StartTimestamp": T0, "Status": "PENDING",
                              "StepDetails": {"Attempt": 1, "NextAttemptTimestamp": NOW}});
    let open_callback = json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "Status": "STARTED",
                               "CallbackDetails": {"CallbackId": "cb-1"}});
    let heartbeats = |record| {
        with(at_op_seq_2(record), |r: &mut ExecutionRecord| {
            r.run.heartbeats.insert("c1".into(), 10);
        })
    };
    let callback_state =
        timer(timer(state(heartbeats(idle()), vec![(2, open_callback)]), "cb:c1", NOW), "hb:c1", NOW + 5000);
    let timeout_error =
        error_json("Execution.TimedOut", "The durable execution exceeded its ExecutionTimeout of 600 seconds");
    let open_invoke = json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "Status": "STARTED",
                             "ChainedInvokeDetails": {}});
    let with_child = with(running(), |r| {
        r.run.op_seq = 3;
        r.run.children.insert("i1".into(), CHILD.into());
    });
    let mut timing_out =
        timer(state(with_child.clone(), vec![(2, open_wait.clone()), (3, open_invoke)]), "op:w1", NOW + 1);
    timing_out.timers.insert("timeout".into(), NOW);
    let wait_done = json!({"Id": "w1", "Type": "WAIT", "StartTimestamp": T0, "EndTimestamp": NOW,
                           "Status": "SUCCEEDED", "WaitDetails": {"ScheduledEndTimestamp": NOW}});
    let retrying = timer(state(with(idle(), |r| r.run.failures = 1), vec![]), "invoke", NOW);
    check(vec![
        row("a wait's end: WaitSucceeded with its duration, and the handler runs again", Some(waiting(idle())), fired("op:w1"))
            .changes(vec![
                disarm("op:w1"),
                put(3, &wait_done),
                event(&json!({"EventType": "WaitSucceeded", "EventId": 4, "Id": "w1", "EventTimestamp": NOW,
                             "WaitSucceededDetails": {"Duration": 60}})),
                row_of(with(next_invocation(at_op_seq_2(idle()), 1), |r| {
                    r.run.op_seq = 3;
                    r.run.events = 4;
                })),
            ])
            .actions(vec![invoke(2)]),
        row("a wait's end while the handler runs: queued", Some(waiting(running())), fired("op:w1"))
            .changes(vec![disarm("op:w1"), Change::Queue(Completion::Timer { name: "op:w1".into() })]),
        row("before its time (the alarm of a timer armed again later): nothing", Some(timer(state(at_op_seq_2(idle()), vec![(2, open_wait.clone())]), "op:w1", NOW + 1)), fired("op:w1")),
        row("a timer no longer armed: nothing", Some(state(at_op_seq_2(idle()), vec![(2, open_wait)])), fired("op:w1")),
        row("a step's retry delay: READY, and the handler runs again", Some(timer(state(at_op_seq_2(idle()), vec![(2, pending_step)]), "op:s1", NOW)), fired("op:s1"))
            .changes(vec![
                disarm("op:s1"),
                put(3, &json!({"Id": "s1", "Type": "STEP", "StartTimestamp": T0, "Status": "READY",
                              "StepDetails": {"Attempt": 1, "NextAttemptTimestamp": NOW}})),
                row_of(with(next_invocation(at_op_seq_2(idle()), 1), |r| r.run.op_seq = 3)),
            ])
            .actions(vec![invoke(2)]),
        row("a callback's timeout: TIMED_OUT, CallbackTimedOut, its heartbeat timer disarmed too", Some(callback_state), fired("cb:c1"))
            .changes(vec![
                disarm("cb:c1"),
                disarm("hb:c1"),
                put(3, &json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "TIMED_OUT", "CallbackDetails": {"CallbackId": "cb-1",
                              "Error": error_json("Callback.Timeout", "Callback timed out")}})),
                event(&json!({"EventType": "CallbackTimedOut", "EventId": 4, "Id": "c1", "EventTimestamp": NOW,
                             "CallbackTimedOutDetails": {"Error": {
                                 "Payload": error_json("Callback.Timeout", "Callback timed out"), "Truncated": false}}})),
                row_of(with(next_invocation(at_op_seq_2(idle()), 1), |r| {
                    r.run.op_seq = 3;
                    r.run.events = 4;
                })),
            ])
            .actions(vec![invoke(2)]),
        row("the execution timeout: the wait cancelled, the child stopped, the execution TIMED_OUT", Some(timing_out), fired("timeout"))
            .changes(vec![
                disarm("timeout"),
                put(4, &json!({"Id": "w1", "Type": "WAIT", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "CANCELLED", "WaitDetails": {"ScheduledEndTimestamp": NOW}})),
                event(&json!({"EventType": "WaitCancelled", "EventId": 4, "Id": "w1", "EventTimestamp": NOW,
                             "WaitCancelledDetails": {"Error": {"Payload": timeout_error, "Truncated": false}}})),
                put(5, &json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "STOPPED", "ChainedInvokeDetails": {"Error": timeout_error}})),
                event(&json!({"EventType": "ChainedInvokeStopped", "EventId": 5, "Id": "i1", "EventTimestamp": NOW,
                             "ChainedInvokeStoppedDetails": {"Error": {"Payload": timeout_error, "Truncated": false}}})),
                put(6, &json!({"Id": "e1", "Type": "EXECUTION", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "TIMED_OUT", "ExecutionDetails": {"InputPayload": "{}"}})),
                event(&json!({"EventType": "ExecutionTimedOut", "EventId": 6, "Id": "e1", "Name": "order-42",
                             "EventTimestamp": NOW, "ExecutionTimedOutDetails": {
                                 "Error": {"Payload": timeout_error, "Truncated": false}}})),
                disarm("op:w1"),
                row_of(with(with_child, |r| {
                    r.status = ExecutionStatus::TimedOut;
                    r.error = Some(ErrorObject::new(
                        "Execution.TimedOut",
                        "The durable execution exceeded its ExecutionTimeout of 600 seconds",
                    ));
                    r.ended_ms = Some(NOW);
                    r.run.invoking = false;
                    r.run.token = None;
                    r.run.op_seq = 6;
                    r.run.events = 6;
                    r.run.children.clear();
                })),
            ])
            .actions(vec![ended()])
            .follow_ups(vec![FollowUp::StopChild {
                execution: CHILD.into(),
                error: ErrorObject::new(
                    "Execution.TimedOut",
                    "The durable execution exceeded its ExecutionTimeout of 600 seconds",
                ),
            }]),
        row("the next attempt after a failed invocation: the handler runs", Some(retrying), fired("invoke"))
            .changes(vec![disarm("invoke"), row_of(next_invocation(with(idle(), |r| r.run.failures = 1), 1))])
            .actions(vec![invoke(2)]),
        row("an ended execution: nothing", Some(timer(state(with(idle(), |r| r.status = ExecutionStatus::Succeeded), vec![]), "op:w1", NOW)), fired("op:w1")),
        row("an unknown execution: nothing", None, fired("timeout")),
    ]);
}

#[test]
fn callback() {
    let open = json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "Status": "STARTED",
                      "CallbackDetails": {"CallbackId": "cb-1"}});
    let listening = |record: ExecutionRecord| {
        let record = with(record, |r| {
            r.run.op_seq = 2;
            r.run.seen_seq = 2;
            r.run.heartbeats.insert("c1".into(), 10);
        });
        let mut state = timer(timer(state(record, vec![(2, open.clone())]), "cb:c1", NOW + 1000), "hb:c1", NOW + 2000);
        // A callback command loads the one operation that holds the callback.
        state.operations.remove(0);
        state.all_operations = false;
        state
    };
    let succeed = CallbackCommand::Succeed(Some("\"yes\"".into()));
    let fail = CallbackCommand::Fail(ErrorObject::new("Rejected", "no"));
    let heartbeat = CallbackCommand::Heartbeat;
    let send = |command| Command::Callback { callback_id: "cb-1", command };
    let closed = |record: ExecutionRecord| {
        with(record, |r| {
            r.run.op_seq = 3;
            r.run.seen_seq = 2;
            r.run.events = 4;
            r.run.heartbeats.clear();
        })
    };
    let base = |record: ExecutionRecord| {
        with(record, |r| {
            r.run.op_seq = 2;
            r.run.seen_seq = 2;
        })
    };
    check(vec![
        row(
            "SUCCEED: SUCCEEDED with the result, its timers disarmed, the handler runs again",
            Some(listening(idle())),
            send(&succeed),
        )
        .changes(vec![
            disarm("cb:c1"),
            disarm("hb:c1"),
            put(
                3,
                &json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "SUCCEEDED", "CallbackDetails": {"CallbackId": "cb-1", "Result": "\"yes\""}}),
            ),
            event(&json!({"EventType": "CallbackSucceeded", "EventId": 4, "Id": "c1", "EventTimestamp": NOW,
                             "CallbackSucceededDetails": {"Result": {"Payload": "\"yes\"", "Truncated": false}}})),
            row_of(next_invocation(closed(idle()), 1)),
        ])
        .actions(vec![invoke(2)]),
        row("FAIL while the handler runs: FAILED, and no second invocation", Some(listening(running())), send(&fail))
            .changes(vec![
                disarm("cb:c1"),
                disarm("hb:c1"),
                put(
                    3,
                    &json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "EndTimestamp": NOW,
                              "Status": "FAILED", "CallbackDetails": {"CallbackId": "cb-1",
                              "Error": error_json("Rejected", "no")}}),
                ),
                event(&json!({"EventType": "CallbackFailed", "EventId": 4, "Id": "c1", "EventTimestamp": NOW,
                             "CallbackFailedDetails": {"Error": {"Payload": error_json("Rejected", "no"),
                             "Truncated": false}}})),
                row_of(closed(running())),
            ]),
        row("a heartbeat: the heartbeat timeout counted again from now", Some(listening(idle())), send(&heartbeat))
            .changes(vec![arm("hb:c1", NOW + 10_000)])
            .actions(vec![alarm("hb:c1", NOW + 10_000)]),
        row(
            "a heartbeat for a callback without a heartbeat timeout: nothing",
            Some(with(listening(idle()), |s| s.record.run.heartbeats.clear())),
            send(&heartbeat),
        ),
    ]);
    let done = with(listening(idle()), |s| {
        s.operations[0].op = op(&json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "EndTimestamp": T0,
                                       "Status": "SUCCEEDED", "CallbackDetails": {"CallbackId": "cb-1"}}));
    });
    check_refused(vec![
        ("an unknown callback", None, send(&succeed), "NotFound: Callback not found: cb-1"),
        (
            "a completed callback",
            Some(done),
            send(&fail),
            "InvalidParameter: Callback cb-1 is already completed (Succeeded); it accepts no more results",
        ),
        (
            "a callback of an ended execution",
            Some(with(listening(idle()), |s| s.record = with(base(idle()), |r| r.status = ExecutionStatus::Stopped))),
            send(&heartbeat),
            "InvalidParameter: Callback cb-1 is already completed (Started); it accepts no more results",
        ),
    ]);
}

#[test]
fn stop() {
    let open = vec![
        (
            2,
            json!({"Id": "w1", "Type": "WAIT", "StartTimestamp": T0, "Status": "STARTED",
                   "WaitDetails": {"ScheduledEndTimestamp": NOW + 1000}}),
        ),
        (
            3,
            json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "Status": "STARTED",
                   "CallbackDetails": {"CallbackId": "cb-1"}}),
        ),
        (
            4,
            json!({"Id": "s1", "Type": "STEP", "StartTimestamp": T0, "EndTimestamp": T0, "Status": "SUCCEEDED",
                   "StepDetails": {"Attempt": 0}}),
        ),
    ];
    let stopping = with(idle(), |r| {
        r.run.op_seq = 4;
        r.run.seen_seq = 4;
        r.run.parent = Some(ParentLink { execution: PARENT.into(), operation: "i1".into() });
    });
    let message = json!({"ErrorMessage": "Execution stopped by user request"});
    let user =
        ErrorObject { error_message: Some("Execution stopped by user request".into()), ..ErrorObject::default() };
    let parents = ErrorObject::new("Operator", "enough");
    let stop = |error| Command::Stop { execution: ARN, error };
    let stop_child = |error| Command::StopChild { execution: ARN, error };
    let stopped = |record: ExecutionRecord, error: &ErrorObject| {
        with(record, |r| {
            r.status = ExecutionStatus::Stopped;
            r.error = Some(error.clone());
            r.ended_ms = Some(NOW);
            r.run.op_seq = 7;
            r.run.events = 5;
        })
    };
    // The wait and the callback cancelled (only the wait's in the history), the execution STOPPED, its timers
    // disarmed.
    let changes = |error: Value, record: ExecutionRecord| {
        vec![
            put(
                5,
                &json!({"Id": "w1", "Type": "WAIT", "StartTimestamp": T0, "EndTimestamp": NOW,
                          "Status": "CANCELLED", "WaitDetails": {"ScheduledEndTimestamp": NOW + 1000}}),
            ),
            event(&json!({"EventType": "WaitCancelled", "EventId": 4, "Id": "w1", "EventTimestamp": NOW,
                         "WaitCancelledDetails": {"Error": {"Payload": error, "Truncated": false}}})),
            put(
                6,
                &json!({"Id": "c1", "Type": "CALLBACK", "StartTimestamp": T0, "EndTimestamp": NOW,
                          "Status": "CANCELLED", "CallbackDetails": {"CallbackId": "cb-1"}}),
            ),
            put(
                7,
                &json!({"Id": "e1", "Type": "EXECUTION", "StartTimestamp": T0, "EndTimestamp": NOW,
                          "Status": "STOPPED", "ExecutionDetails": {"InputPayload": "{}"}}),
            ),
            event(&json!({"EventType": "ExecutionStopped", "EventId": 5, "Id": "e1", "Name": "order-42",
                         "EventTimestamp": NOW, "ExecutionStoppedDetails": {
                             "Error": {"Payload": error, "Truncated": false}}})),
            disarm("op:w1"),
            disarm("timeout"),
            row_of(record),
        ]
    };
    let armed = || timer(state(stopping.clone(), open.clone()), "op:w1", NOW + 1000);
    check(vec![
        row("by the user: the wait and the callback cancelled (the history tells the wait's), STOPPED with AWS's words, the parent told", Some(armed()), stop(None))
            .changes(changes(message.clone(), stopped(stopping.clone(), &user)))
            .actions(vec![ended()])
            .follow_ups(vec![FollowUp::Deliver {
                execution: PARENT.into(),
                completion: Completion::Target { operation: "i1".into(), outcome: TargetEnd::Stopped(user.clone()) },
            }]),
        row("by its stopping parent: the same, and nothing told back", Some(armed()), stop_child(&parents))
            .changes(changes(
                error_json("Operator", "enough"),
                with(stopped(stopping.clone(), &parents), |r| r.run.parent = None),
            ))
            .actions(vec![ended()]),
        row("by its parent when it ended already: nothing", Some(state(with(idle(), |r| r.status = ExecutionStatus::Succeeded), vec![])), stop_child(&parents)),
        row("by its parent when it is unknown: nothing", None, stop_child(&parents)),
    ]);
    check_refused(vec![
        (
            "an ended execution",
            Some(state(with(idle(), |r| r.status = ExecutionStatus::Failed), vec![])),
            stop(None),
            &format!("InvalidParameter: Durable execution {ARN} is not running: it is FAILED"),
        ),
        ("an unknown execution", None, stop(None), &format!("NotFound: Durable execution not found: {ARN}")),
    ]);
}

#[test]
fn recover() {
    let open_invoke = json!({"Id": "i1", "Type": "CHAINED_INVOKE", "StartTimestamp": T0, "Status": "STARTED",
                             "ChainedInvokeDetails": {}});
    let target = PendingTarget {
        function_name: "fn-processor".into(),
        qualifier: "1".into(),
        payload: Some("7".into()),
        tenant_id: Some("t".into()),
    };
    let awaiting = with(idle(), |r| {
        r.run.op_seq = 2;
        r.run.seen_seq = 2;
        r.run.targets.insert("i1".into(), target);
    });
    let with_child = with(idle(), |r| {
        r.run.op_seq = 2;
        r.run.seen_seq = 2;
        r.run.children.insert("i1".into(), CHILD.into());
    });
    let mut queued = state(with(idle(), |r| r.run.events = 4), vec![]);
    queued.inbox = vec![Completion::Timer { name: "op:gone".into() }];
    check(vec![
        row(
            "cut short while its handler ran: its timers watched again, the invocation run again with a new token",
            Some(state(running(), vec![])),
            Command::Recover,
        )
        .changes(vec![row_of(next_invocation(running(), 1))])
        .actions(vec![alarm("timeout", DEADLINE), invoke(2)]),
        row(
            "waiting on a plain function: the target invoked again",
            Some(state(awaiting, vec![(2, open_invoke.clone())])),
            Command::Recover,
        )
        .actions(vec![
            alarm("timeout", DEADLINE),
            Action::InvokeTarget {
                execution: ARN.into(),
                operation: "i1".into(),
                function_name: "fn-processor".into(),
                qualifier: "1".into(),
                payload: Some("7".into()),
                tenant_id: Some("t".into()),
            },
        ]),
        row(
            "waiting on a child execution: the child carries on by itself",
            Some(state(with_child, vec![(2, open_invoke)])),
            Command::Recover,
        )
        .actions(vec![alarm("timeout", DEADLINE)]),
        row(
            "with a completion queued for an operation it no longer has: the queue emptied",
            Some(queued),
            Command::Recover,
        )
        .changes(vec![Change::ClearInbox])
        .actions(vec![alarm("timeout", DEADLINE)]),
    ]);
}
