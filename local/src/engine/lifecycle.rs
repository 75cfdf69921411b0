//! An execution's life, decided: start, handler invocations and their end, completions (chained invokes, timers,
//! callbacks), timeouts, stops, the terminal transition and recovery. Operation updates a handler checkpoints are
//! in [`super::checkpoint`]. Every function here works on a [`Ctx`] and never on the store.

use serde_json::{Map, json};
use sha2::Digest as _;

use super::decision::{Answer, Ctx, Decision, Env, FollowUp};
use super::model::{
    CallbackDetails, ChainedInvokeDetails, ErrorObject, EventType, ExecutionDetails, ExecutionStatus, Operation,
    OperationStatus, OperationType,
};
use super::state::{Completion, EndResult, ExecutionRecord, ExecutionState, ParentLink, RunState, TargetEnd};
use super::{
    Action, CallbackCommand, EngineError, Envelope, InvocationResult, StartOutcome, StartRequest, history, timer,
};

/// Bytes of operations the first invocation page carries before the rest is left to `GetDurableExecutionState`
/// (Lambda's 6 MB invocation payload, with room for the envelope).
const ENVELOPE_BUDGET: usize = 5 * 1024 * 1024;

/// Delay before the next attempt after `failures` failed handler invocations in a row.
fn invocation_backoff_ms(failures: u32) -> i64 {
    1000_i64.saturating_mul(1_i64 << failures.saturating_sub(1).min(5))
}

fn sha256(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The ARN of execution `name` / `id` of a function version.
pub(super) fn execution_arn(function_arn: &str, qualifier: &str, name: &str, id: &str) -> String {
    format!("{function_arn}:{qualifier}/durable-execution/{name}/{id}")
}

/// Starts an execution. `existing` is the execution already holding the requested name; `identity` the name and
/// id drawn for a child execution by its parent.
pub(super) fn start(
    existing: Option<ExecutionState>,
    request: &StartRequest,
    parent: Option<&ParentLink>,
    identity: Option<(&str, &str)>,
    env: &Env<'_>,
) -> Result<Decision, EngineError> {
    let input_hash = sha256(&request.input);
    if let Some(name) = &request.name {
        if !super::is_valid_name(name) {
            return Err(EngineError::InvalidParameter(format!(
                "1 validation error detected: Value '{name}' at 'durableExecutionName' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (1 to 64 characters)"
            )));
        }
        if let Some(existing) = existing {
            if existing.record.input_hash == input_hash {
                return Ok(Decision::answer(Answer::Start(Box::new(StartOutcome::Existing(existing.record)))));
            }
            return Err(EngineError::AlreadyStarted(format!(
                "Durable execution with name {name} already exists with a different input: {}",
                existing.record.arn
            )));
        }
    }
    let (name, id) = if let Some((name, id)) = identity {
        (name.to_owned(), id.to_owned())
    } else {
        let name = request.name.clone().unwrap_or_else(|| env.id());
        (name, env.id())
    };
    let exec = ExecutionRecord {
        key: 0,
        arn: execution_arn(&request.function_arn, &request.qualifier, &name, &id),
        function_name: request.function_name.clone(),
        qualifier: request.qualifier.clone(),
        function_arn: request.function_arn.clone(),
        name,
        status: ExecutionStatus::Running,
        input: request.input.clone(),
        input_hash,
        result: None,
        error: None,
        started_ms: env.now,
        ended_ms: None,
        timeout_s: request.timeout_s,
        retention_days: request.retention_days,
        run: RunState { parent: parent.cloned(), ..RunState::default() },
    };
    let mut ctx = Ctx::create(exec, env);
    let op = Operation {
        id,
        parent_id: None,
        name: None,
        operation_type: OperationType::Execution,
        sub_type: None,
        start_timestamp: ctx.now,
        end_timestamp: None,
        status: OperationStatus::Started,
        execution_details: Some(ExecutionDetails { input_payload: Some(request.input.clone()) }),
        context_details: None,
        step_details: None,
        wait_details: None,
        callback_details: None,
        chained_invoke_details: None,
    };
    let mut details = Map::new();
    details.insert("Input".into(), history::payload_object(Some(&request.input)));
    details.insert("ExecutionTimeout".into(), json!(request.timeout_s));
    let identity = Some((op.id.as_str(), ctx.exec.name.as_str()));
    let started = history::of_execution(EventType::ExecutionStarted, identity, details, ctx.now);
    ctx.put_op(op);
    ctx.record(started);
    let deadline = ctx.now.saturating_add(request.timeout_s.saturating_mul(1000));
    ctx.arm(timer::EXECUTION_TIMEOUT, deadline);
    begin_invocation(&mut ctx);
    let record = ctx.exec.clone();
    Ok(ctx.decide(Answer::Start(Box::new(StartOutcome::Started(record)))))
}

/// Decides the next handler invocation: new token, new request id.
fn begin_invocation(ctx: &mut Ctx<'_>) {
    ctx.exec.run.invocation += 1;
    ctx.exec.run.invoking = true;
    let token = format!("{}.{}", ctx.exec.run.invocation, ctx.hex_id());
    let request_id = ctx.id();
    let run = &mut ctx.exec.run;
    run.token = Some(token);
    run.request_id = request_id;
    run.invocation_started_ms = ctx.now;
    run.last_checkpoint = None;
    ctx.disarm(timer::INVOKE);
    let action = Action::InvokeHandler { execution: ctx.exec.arn.clone(), invocation: ctx.exec.run.invocation };
    ctx.act(action);
}

/// Invokes the handler if it has not seen everything that changed and is not running already.
fn invoke_if_changed(ctx: &mut Ctx<'_>) {
    let exec = &ctx.exec;
    if exec.status == ExecutionStatus::Running && !exec.run.invoking && exec.run.op_seq > exec.run.seen_seq {
        begin_invocation(ctx);
    }
}

/// The envelope of handler invocation `invocation`, unless another one is current.
pub(super) fn envelope(state: Option<ExecutionState>, invocation: u64, env: &Env<'_>) -> Result<Decision, EngineError> {
    let Some(state) = state else { return Ok(Decision::answer(Answer::Envelope(None))) };
    let mut ctx = Ctx::new(state, env);
    let exec = &ctx.exec;
    if exec.status != ExecutionStatus::Running || !exec.run.invoking || exec.run.invocation != invocation {
        return Ok(ctx.decide(Answer::Envelope(None)));
    }
    let all = ctx.operations()?;
    let mut used = 0usize;
    let mut operations = Vec::new();
    let mut next_marker = None;
    for (index, op) in all.into_iter().enumerate() {
        let size = serde_json::to_string(&op).map_or(0, |s| s.len());
        if index > 0 && used + size > ENVELOPE_BUDGET {
            next_marker = Some(index.to_string());
            break;
        }
        used += size;
        operations.push(op);
    }
    ctx.exec.run.seen_seq = ctx.exec.run.op_seq;
    let envelope = Envelope {
        execution: ctx.exec.arn.clone(),
        token: ctx.exec.run.token.clone().unwrap_or_default(),
        request_id: ctx.exec.run.request_id.clone(),
        operations,
        next_marker,
    };
    Ok(ctx.decide(Answer::Envelope(Some(envelope))))
}

fn invocation_completed(ctx: &mut Ctx<'_>, error: Option<&ErrorObject>) {
    let mut details = Map::new();
    details.insert("StartTimestamp".into(), json!(ctx.exec.run.invocation_started_ms));
    details.insert("EndTimestamp".into(), json!(ctx.now));
    details.insert("RequestId".into(), json!(ctx.exec.run.request_id));
    if let Some(error) = error {
        details.insert("Error".into(), history::error_object(error));
    }
    let event = history::of_execution(EventType::InvocationCompleted, None, details, ctx.now);
    ctx.record(event);
}

pub(super) fn invocation_ended(
    state: Option<ExecutionState>,
    invocation: u64,
    result: &InvocationResult,
    env: &Env<'_>,
) -> Result<Decision, EngineError> {
    let Some(state) = state else { return Ok(Decision::answer(Answer::Nothing)) };
    let mut ctx = Ctx::new(state, env);
    let exec = &ctx.exec;
    if exec.status != ExecutionStatus::Running || !exec.run.invoking || exec.run.invocation != invocation {
        return Ok(ctx.decide(Answer::Nothing));
    }
    ctx.exec.run.invoking = false;
    ctx.exec.run.token = None;
    let failure = match result {
        InvocationResult::Output(output) => match output.status.as_str() {
            "SUCCEEDED" => {
                invocation_completed(&mut ctx, None);
                let checkpointed = ctx.exec.run.checkpointed_outcome.take();
                let result = match (output.result.clone().filter(|r| !r.is_empty()), checkpointed) {
                    (Some(result), _) => Some(result),
                    (None, Some(EndResult::Succeeded(result))) => result,
                    (None, _) => output.result.clone(),
                };
                complete(&mut ctx, EndResult::Succeeded(result))?;
                return Ok(ctx.decide(Answer::Nothing));
            }
            "FAILED" => {
                invocation_completed(&mut ctx, None);
                let checkpointed = ctx.exec.run.checkpointed_outcome.take();
                let error = match (output.error.clone(), checkpointed) {
                    (Some(error), _) | (None, Some(EndResult::Failed(error))) => error,
                    (None, _) => ErrorObject::new("HandlerError", "the handler reported FAILED without an error"),
                };
                complete(&mut ctx, EndResult::Failed(error))?;
                return Ok(ctx.decide(Answer::Nothing));
            }
            "PENDING" => {
                if ctx.exec.run.op_seq > ctx.exec.run.seen_seq || has_pending_work(&ctx)? {
                    invocation_completed(&mut ctx, None);
                    ctx.exec.run.failures = 0;
                    apply_inbox(&mut ctx);
                    invoke_if_changed(&mut ctx);
                    return Ok(ctx.decide(Answer::Nothing));
                }
                ErrorObject::new(
                    "Runtime.InvalidOutput",
                    "the handler returned PENDING while no operation is pending (no wait, callback, retry or \
                     chained invoke to resume from)",
                )
            }
            other => ErrorObject::new(
                "Runtime.InvalidOutput",
                format!("the handler returned Status {other:?}; expected SUCCEEDED, FAILED or PENDING"),
            ),
        },
        InvocationResult::Failed(error) => error.clone(),
    };
    invocation_completed(&mut ctx, Some(&failure));
    ctx.exec.run.failures += 1;
    if ctx.exec.run.failures >= ctx.config.max_invocation_failures {
        complete(&mut ctx, EndResult::Failed(failure))?;
    } else {
        apply_inbox(&mut ctx);
        let at = ctx.now.saturating_add(invocation_backoff_ms(ctx.exec.run.failures));
        ctx.arm(timer::INVOKE, at);
    }
    Ok(ctx.decide(Answer::Nothing))
}

/// Whether anything can still wake the execution: an operation waiting on a timer, a callback or a target, or a
/// queued completion.
fn has_pending_work(ctx: &Ctx<'_>) -> Result<bool, EngineError> {
    Ok(ctx.operations()?.iter().any(|op| match op.operation_type {
        OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => {
            op.status == OperationStatus::Started
        }
        OperationType::Step => matches!(op.status, OperationStatus::Pending | OperationStatus::Ready),
        OperationType::Execution | OperationType::Context => false,
    }))
}

/// A completion arrives from outside the handler: a chained invoke's target ended.
pub(super) fn arrive(state: Option<ExecutionState>, completion: &Completion, env: &Env<'_>) -> Decision {
    let Some(state) = state else { return Decision::answer(Answer::Nothing) };
    let mut ctx = Ctx::new(state, env);
    deliver(&mut ctx, completion);
    ctx.decide(Answer::Nothing)
}

/// Takes a completion now, or queues it while the handler runs.
fn deliver(ctx: &mut Ctx<'_>, completion: &Completion) {
    if ctx.exec.status != ExecutionStatus::Running {
        return;
    }
    if ctx.exec.run.invoking {
        ctx.queue(completion.clone());
        return;
    }
    apply_completion(ctx, completion);
    invoke_if_changed(ctx);
}

fn apply_inbox(ctx: &mut Ctx<'_>) {
    for completion in ctx.take_inbox() {
        apply_completion(ctx, &completion);
    }
}

fn apply_completion(ctx: &mut Ctx<'_>, completion: &Completion) {
    match completion {
        Completion::Target { operation, outcome } => {
            let Some(mut op) = ctx.op(operation) else { return };
            if op.operation_type != OperationType::ChainedInvoke || op.status != OperationStatus::Started {
                return;
            }
            let (status, event_type, details, chained) = match outcome {
                TargetEnd::Succeeded(result) => (
                    OperationStatus::Succeeded,
                    EventType::ChainedInvokeSucceeded,
                    history::result(result.as_deref()),
                    ChainedInvokeDetails { result: result.clone(), error: None },
                ),
                TargetEnd::Failed(error) => (
                    OperationStatus::Failed,
                    EventType::ChainedInvokeFailed,
                    history::error(error),
                    ChainedInvokeDetails { result: None, error: Some(error.clone()) },
                ),
                TargetEnd::TimedOut(error) => (
                    OperationStatus::TimedOut,
                    EventType::ChainedInvokeTimedOut,
                    history::error(error),
                    ChainedInvokeDetails { result: None, error: Some(error.clone()) },
                ),
                TargetEnd::Stopped(error) => (
                    OperationStatus::Stopped,
                    EventType::ChainedInvokeStopped,
                    history::error(error),
                    ChainedInvokeDetails { result: None, error: Some(error.clone()) },
                ),
            };
            op.status = status;
            op.end_timestamp = Some(ctx.now);
            op.chained_invoke_details = Some(chained);
            let event = history::of_operation(event_type, &op, details, ctx.now);
            ctx.put_op(op);
            ctx.exec.run.children.remove(operation);
            ctx.exec.run.targets.remove(operation);
            ctx.record(event);
        }
        Completion::Timer { name } => timer_completion(ctx, name),
    }
}

fn timer_completion(ctx: &mut Ctx<'_>, name: &str) {
    let (kind, id) = name.split_once(':').unwrap_or((name, ""));
    let Some(mut op) = ctx.op(id) else { return };
    match (kind, op.operation_type, op.status) {
        ("op", OperationType::Wait, OperationStatus::Started) => {
            op.status = OperationStatus::Succeeded;
            op.end_timestamp = Some(ctx.now);
            let scheduled = op.wait_details.as_ref().and_then(|d| d.scheduled_end_timestamp).unwrap_or(ctx.now);
            let mut details = Map::new();
            details.insert("Duration".into(), json!((scheduled - op.start_timestamp) / 1000));
            let event = history::of_operation(EventType::WaitSucceeded, &op, details, ctx.now);
            ctx.put_op(op);
            ctx.record(event);
        }
        ("op", OperationType::Step, OperationStatus::Pending) => {
            op.status = OperationStatus::Ready;
            ctx.put_op(op);
        }
        ("cb" | "hb", OperationType::Callback, OperationStatus::Started) => {
            let error = if kind == "cb" {
                ErrorObject::new("Callback.Timeout", "Callback timed out")
            } else {
                ErrorObject::new("Callback.Heartbeat", "Callback timed out waiting for a heartbeat")
            };
            ctx.disarm(&timer::callback(id));
            ctx.disarm(&timer::heartbeat(id));
            ctx.exec.run.heartbeats.remove(id);
            op.status = OperationStatus::TimedOut;
            op.end_timestamp = Some(ctx.now);
            let details = op.callback_details.get_or_insert_with(CallbackDetails::default);
            details.error = Some(error.clone());
            let event = history::of_operation(EventType::CallbackTimedOut, &op, history::error(&error), ctx.now);
            ctx.put_op(op);
            ctx.record(event);
        }
        _ => {}
    }
}

pub(super) fn timer_fired(state: Option<ExecutionState>, name: &str, env: &Env<'_>) -> Result<Decision, EngineError> {
    let Some(state) = state else { return Ok(Decision::answer(Answer::Nothing)) };
    let mut ctx = Ctx::new(state, env);
    if ctx.exec.status != ExecutionStatus::Running {
        return Ok(ctx.decide(Answer::Nothing));
    }
    // A timer re-armed later (a heartbeat) leaves its earlier alarm behind: only the stored time counts.
    match ctx.timer(name) {
        Some(at) if at <= ctx.now => {}
        _ => return Ok(ctx.decide(Answer::Nothing)),
    }
    ctx.disarm(name);
    match name {
        timer::EXECUTION_TIMEOUT => {
            let error = ErrorObject::new(
                "Execution.TimedOut",
                format!("The durable execution exceeded its ExecutionTimeout of {} seconds", ctx.exec.timeout_s),
            );
            terminate(&mut ctx, ExecutionStatus::TimedOut, error)?;
        }
        timer::INVOKE => {
            if !ctx.exec.run.invoking {
                begin_invocation(&mut ctx);
            }
        }
        _ => deliver(&mut ctx, &Completion::Timer { name: name.to_owned() }),
    }
    Ok(ctx.decide(Answer::Nothing))
}

pub(super) fn callback(
    state: Option<ExecutionState>,
    callback_id: &str,
    command: &CallbackCommand,
    env: &Env<'_>,
) -> Result<Decision, EngineError> {
    let not_found = || EngineError::NotFound(format!("Callback not found: {callback_id}"));
    let mut ctx = Ctx::new(state.ok_or_else(not_found)?, env);
    let mut op = ctx.op_by_callback(callback_id).ok_or_else(not_found)?;
    if ctx.exec.status != ExecutionStatus::Running || op.status != OperationStatus::Started {
        return Err(EngineError::InvalidParameter(format!(
            "Callback {callback_id} is already completed ({:?}); it accepts no more results",
            op.status
        )));
    }
    let id = op.id.clone();
    let (event_type, details) = match command {
        CallbackCommand::Heartbeat => {
            if let Some(seconds) = ctx.exec.run.heartbeats.get(&id).copied() {
                let at = ctx.now.saturating_add(seconds.saturating_mul(1000));
                ctx.arm(&timer::heartbeat(&id), at);
            }
            return Ok(ctx.decide(Answer::Nothing));
        }
        CallbackCommand::Succeed(result) => {
            op.status = OperationStatus::Succeeded;
            let details = history::result(result.as_deref());
            op.callback_details.get_or_insert_with(CallbackDetails::default).result.clone_from(result);
            (EventType::CallbackSucceeded, details)
        }
        CallbackCommand::Fail(error) => {
            op.status = OperationStatus::Failed;
            let details = history::error(error);
            op.callback_details.get_or_insert_with(CallbackDetails::default).error = Some(error.clone());
            (EventType::CallbackFailed, details)
        }
    };
    op.end_timestamp = Some(ctx.now);
    ctx.disarm(&timer::callback(&id));
    ctx.disarm(&timer::heartbeat(&id));
    ctx.exec.run.heartbeats.remove(&id);
    let event = history::of_operation(event_type, &op, details, ctx.now);
    ctx.put_op(op);
    ctx.record(event);
    invoke_if_changed(&mut ctx);
    Ok(ctx.decide(Answer::Nothing))
}

/// `StopDurableExecution`.
pub(super) fn stop(
    state: Option<ExecutionState>,
    arn: &str,
    error: Option<&ErrorObject>,
    env: &Env<'_>,
) -> Result<Decision, EngineError> {
    let mut ctx = Ctx::new(state.ok_or_else(|| super::not_found(arn))?, env);
    if ctx.exec.status != ExecutionStatus::Running {
        return Err(EngineError::InvalidParameter(format!(
            "Durable execution {arn} is not running: it is {}",
            ctx.exec.status.as_str()
        )));
    }
    // Without an error in the request, the words AWS's emulator records.
    let error = error.cloned().unwrap_or_else(|| ErrorObject {
        error_message: Some("Execution stopped by user request".to_owned()),
        ..ErrorObject::default()
    });
    terminate(&mut ctx, ExecutionStatus::Stopped, error)?;
    Ok(ctx.decide(Answer::Nothing))
}

/// The parent of a child execution ended: the child stops, and must not report back into the parent.
pub(super) fn stop_child(
    state: Option<ExecutionState>,
    error: &ErrorObject,
    env: &Env<'_>,
) -> Result<Decision, EngineError> {
    let Some(state) = state else { return Ok(Decision::answer(Answer::Nothing)) };
    let mut ctx = Ctx::new(state, env);
    if ctx.exec.status == ExecutionStatus::Running {
        ctx.exec.run.parent = None;
        terminate(&mut ctx, ExecutionStatus::Stopped, error.clone())?;
    }
    Ok(ctx.decide(Answer::Nothing))
}

/// Stops or times out a running execution: its open operations are cancelled (the history says which), then the
/// execution ends with `status`.
fn terminate(ctx: &mut Ctx<'_>, status: ExecutionStatus, error: ErrorObject) -> Result<(), EngineError> {
    for mut op in ctx.operations()? {
        if op.status.is_terminal() {
            continue;
        }
        let cancelled = match (op.operation_type, op.status) {
            (OperationType::Wait, OperationStatus::Started) => {
                op.status = OperationStatus::Cancelled;
                Some((EventType::WaitCancelled, history::error(&error)))
            }
            (OperationType::ChainedInvoke, OperationStatus::Started) => {
                op.status = OperationStatus::Stopped;
                op.chained_invoke_details = Some(ChainedInvokeDetails { result: None, error: Some(error.clone()) });
                ctx.exec.run.targets.remove(&op.id);
                if let Some(child) = ctx.exec.run.children.remove(&op.id) {
                    ctx.follow(FollowUp::StopChild { execution: child, error: error.clone() });
                }
                Some((EventType::ChainedInvokeStopped, history::error(&error)))
            }
            (OperationType::Callback, OperationStatus::Started) => {
                op.status = OperationStatus::Cancelled;
                None
            }
            _ => continue,
        };
        op.end_timestamp = Some(ctx.now);
        let event = cancelled.map(|(event_type, details)| history::of_operation(event_type, &op, details, ctx.now));
        ctx.put_op(op);
        if let Some(event) = event {
            ctx.record(event);
        }
    }
    finish(ctx, status, None, Some(error))
}

/// Ends the execution with the handler's outcome.
fn complete(ctx: &mut Ctx<'_>, outcome: EndResult) -> Result<(), EngineError> {
    match outcome {
        EndResult::Succeeded(result) => finish(ctx, ExecutionStatus::Succeeded, result, None),
        EndResult::Failed(error) => finish(ctx, ExecutionStatus::Failed, None, Some(error)),
    }
}

fn finish(
    ctx: &mut Ctx<'_>,
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
) -> Result<(), EngineError> {
    let execution_op = ctx.operations()?.into_iter().find(|op| op.operation_type == OperationType::Execution);
    let op_id = execution_op.as_ref().map(|op| op.id.clone()).unwrap_or_default();
    if let Some(mut op) = execution_op {
        op.status = match status {
            ExecutionStatus::Succeeded => OperationStatus::Succeeded,
            ExecutionStatus::Failed => OperationStatus::Failed,
            ExecutionStatus::TimedOut => OperationStatus::TimedOut,
            ExecutionStatus::Stopped | ExecutionStatus::Running => OperationStatus::Stopped,
        };
        op.end_timestamp = Some(ctx.now);
        ctx.put_op(op);
    }
    let (event_type, details) = match (status, &error) {
        (ExecutionStatus::Succeeded, _) => (EventType::ExecutionSucceeded, history::result(result.as_deref())),
        (ExecutionStatus::Failed, Some(e)) => (EventType::ExecutionFailed, history::error(e)),
        (ExecutionStatus::TimedOut, Some(e)) => (EventType::ExecutionTimedOut, history::error(e)),
        (_, Some(e)) => (EventType::ExecutionStopped, history::error(e)),
        (_, None) => (EventType::ExecutionStopped, Map::new()),
    };
    let event = history::of_execution(event_type, Some((&op_id, &ctx.exec.name)), details, ctx.now);
    ctx.record(event);
    let exec = &mut ctx.exec;
    exec.status = status;
    exec.result.clone_from(&result);
    exec.error.clone_from(&error);
    exec.ended_ms = Some(ctx.now);
    exec.run.invoking = false;
    exec.run.token = None;
    exec.run.heartbeats.clear();
    for name in ctx.timer_names() {
        ctx.disarm(&name);
    }
    // Completions queued for the handler no longer matter.
    ctx.take_inbox();
    ctx.act(Action::Ended { execution: ctx.exec.arn.clone() });
    if let Some(parent) = ctx.exec.run.parent.clone() {
        let outcome = match status {
            ExecutionStatus::Succeeded => TargetEnd::Succeeded(result),
            ExecutionStatus::TimedOut => TargetEnd::TimedOut(error.unwrap_or_default()),
            ExecutionStatus::Stopped => TargetEnd::Stopped(error.unwrap_or_default()),
            ExecutionStatus::Failed | ExecutionStatus::Running => TargetEnd::Failed(error.unwrap_or_default()),
        };
        let completion = Completion::Target { operation: parent.operation, outcome };
        ctx.follow(FollowUp::Deliver { execution: parent.execution, completion });
    }
    Ok(())
}

/// After a restart: the execution's timers watched again, chained invokes without a result issued again, and
/// the handler invocation cut short run again (or the next one decided).
pub(super) fn recover(state: Option<ExecutionState>, env: &Env<'_>) -> Result<Decision, EngineError> {
    let Some(state) = state else { return Ok(Decision::answer(Answer::Nothing)) };
    let mut ctx = Ctx::new(state, env);
    let arn = ctx.exec.arn.clone();
    let alarms: Vec<Action> = ctx
        .timers()
        .map(|(timer, &at_ms)| Action::ArmTimer { execution: arn.clone(), timer: timer.clone(), at_ms })
        .collect();
    for alarm in alarms {
        ctx.act(alarm);
    }
    for op in ctx.operations()? {
        if op.operation_type == OperationType::ChainedInvoke
            && op.status == OperationStatus::Started
            && !ctx.exec.run.children.contains_key(&op.id)
        {
            reissue_target(&mut ctx, &op);
        }
    }
    if ctx.exec.run.invoking {
        // The invocation was cut short with the process that ran it: run it again.
        ctx.exec.run.invoking = false;
        begin_invocation(&mut ctx);
    } else {
        apply_inbox(&mut ctx);
        invoke_if_changed(&mut ctx);
    }
    Ok(ctx.decide(Answer::Nothing))
}

/// Issues a chained invoke again whose target never reported (at least once for the target).
fn reissue_target(ctx: &mut Ctx<'_>, op: &Operation) {
    if let Some(target) = ctx.exec.run.targets.get(&op.id) {
        let action = Action::InvokeTarget {
            execution: ctx.exec.arn.clone(),
            operation: op.id.clone(),
            function_name: target.function_name.clone(),
            qualifier: target.qualifier.clone(),
            payload: target.payload.clone(),
            tenant_id: target.tenant_id.clone(),
        };
        ctx.act(action);
    }
}
