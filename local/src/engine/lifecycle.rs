//! An execution's life: start, handler invocations and their end, completions (chained invokes, timers,
//! callbacks), timeouts, stops, the terminal transition and recovery. Operation updates a handler checkpoints are
//! in [`super::apply`].

use serde_json::{Map, json};
use sha2::Digest as _;

use super::model::{
    CallbackDetails, ChainedInvokeDetails, ErrorObject, Event, EventType, ExecutionDetails, ExecutionStatus, Operation,
    OperationStatus, OperationType,
};
use super::store::{self, ExecutionRecord, Outcome, ParentLink, RunState};
use super::{
    Action, CallbackCommand, Completion, Ctx, EngineError, Envelope, InvocationResult, StartOutcome, StartRequest,
    StoredTargetOutcome, history, timer,
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

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Appends an event to the execution's history.
pub(super) fn record(ctx: &Ctx<'_>, exec: &mut ExecutionRecord, mut event: Event) -> Result<(), EngineError> {
    exec.run.events += 1;
    event.event_id = exec.run.events;
    store::put_event(ctx.tx, exec.key, &event)?;
    Ok(())
}

/// Stores an operation, stamped as changed now.
pub(super) fn put_op(ctx: &Ctx<'_>, exec: &mut ExecutionRecord, op: &Operation) -> Result<(), EngineError> {
    exec.run.op_seq += 1;
    store::put_operation(ctx.tx, exec.key, op, exec.run.op_seq)?;
    Ok(())
}

/// Arms a timer and asks the service to watch it.
pub(super) fn arm(ctx: &mut Ctx<'_>, exec: &ExecutionRecord, name: &str, at_ms: i64) -> Result<(), EngineError> {
    store::put_timer(ctx.tx, exec.key, name, at_ms)?;
    ctx.actions.push(Action::ArmTimer { execution: exec.arn.clone(), timer: name.to_owned(), at_ms });
    Ok(())
}

/// When a timer of an operation fires: at once under time control, else at `at_ms`.
pub(super) fn operation_timer_at(ctx: &Ctx<'_>, at_ms: i64) -> i64 {
    if ctx.config.skip_time { ctx.now } else { at_ms }
}

pub(super) fn start(
    ctx: &mut Ctx<'_>,
    request: &StartRequest,
    parent: Option<ParentLink>,
) -> Result<StartOutcome, EngineError> {
    let input_hash = sha256(&request.input);
    if let Some(name) = &request.name {
        if !super::is_valid_name(name) {
            return Err(EngineError::InvalidParameter(format!(
                "1 validation error detected: Value '{name}' at 'durableExecutionName' failed to satisfy constraint: \
                 Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (1 to 64 characters)"
            )));
        }
        if let Some(existing) = store::execution_by_name(ctx.tx, &request.function_name, name)? {
            if existing.input_hash == input_hash {
                return Ok(StartOutcome::Existing(existing));
            }
            return Err(EngineError::AlreadyStarted(format!(
                "Durable execution with name {name} already exists with a different input: {}",
                existing.arn
            )));
        }
    }
    let name = request.name.clone().unwrap_or_else(new_id);
    let id = new_id();
    let arn = format!("{}:{}/durable-execution/{name}/{id}", request.function_arn, request.qualifier);
    let mut exec = ExecutionRecord {
        key: 0,
        arn,
        function_name: request.function_name.clone(),
        qualifier: request.qualifier.clone(),
        function_arn: request.function_arn.clone(),
        name,
        status: ExecutionStatus::Running,
        input: request.input.clone(),
        input_hash,
        result: None,
        error: None,
        started_ms: ctx.now,
        ended_ms: None,
        timeout_s: request.timeout_s,
        retention_days: request.retention_days,
        run: RunState { parent, ..RunState::default() },
    };
    exec.key = store::insert_execution(ctx.tx, &exec)?;
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
    put_op(ctx, &mut exec, &op)?;
    let mut details = Map::new();
    details.insert("Input".into(), history::payload_object(Some(&request.input)));
    details.insert("ExecutionTimeout".into(), json!(request.timeout_s));
    let identity = Some((op.id.as_str(), exec.name.as_str()));
    let started = history::of_execution(EventType::ExecutionStarted, identity, details, ctx.now);
    record(ctx, &mut exec, started)?;
    let deadline = ctx.now.saturating_add(request.timeout_s.saturating_mul(1000));
    arm(ctx, &exec, timer::EXECUTION_TIMEOUT, deadline)?;
    begin_invocation(ctx, &mut exec)?;
    store::update_execution(ctx.tx, &exec)?;
    Ok(StartOutcome::Started(exec))
}

/// Decides the next handler invocation: new token, new request id.
pub(super) fn begin_invocation(ctx: &mut Ctx<'_>, exec: &mut ExecutionRecord) -> Result<(), EngineError> {
    exec.run.invocation += 1;
    exec.run.invoking = true;
    exec.run.token = Some(format!("{}.{}", exec.run.invocation, uuid::Uuid::new_v4().simple()));
    exec.run.request_id = new_id();
    exec.run.invocation_started_ms = ctx.now;
    exec.run.last_checkpoint = None;
    store::delete_timer(ctx.tx, exec.key, timer::INVOKE)?;
    ctx.actions.push(Action::InvokeHandler { execution: exec.arn.clone(), invocation: exec.run.invocation });
    Ok(())
}

/// Invokes the handler if it has not seen everything that changed and is not running already.
fn invoke_if_changed(ctx: &mut Ctx<'_>, exec: &mut ExecutionRecord) -> Result<(), EngineError> {
    if exec.status == ExecutionStatus::Running && !exec.run.invoking && exec.run.op_seq > exec.run.seen_seq {
        begin_invocation(ctx, exec)?;
    }
    Ok(())
}

pub(super) fn envelope(ctx: &mut Ctx<'_>, arn: &str, invocation: u64) -> Result<Option<Envelope>, EngineError> {
    let Some(mut exec) = store::execution(ctx.tx, arn)? else { return Ok(None) };
    if exec.status != ExecutionStatus::Running || !exec.run.invoking || exec.run.invocation != invocation {
        return Ok(None);
    }
    let all = store::operations(ctx.tx, exec.key)?;
    let mut used = 0usize;
    let mut operations = Vec::new();
    let mut next_marker = None;
    for (index, op) in all.iter().enumerate() {
        let size = serde_json::to_string(op).map_or(0, |s| s.len());
        if index > 0 && used + size > ENVELOPE_BUDGET {
            next_marker = Some(index.to_string());
            break;
        }
        used += size;
        operations.push(op.clone());
    }
    exec.run.seen_seq = exec.run.op_seq;
    store::update_execution(ctx.tx, &exec)?;
    Ok(Some(Envelope {
        execution: exec.arn.clone(),
        token: exec.run.token.clone().unwrap_or_default(),
        request_id: exec.run.request_id.clone(),
        operations,
        next_marker,
    }))
}

fn invocation_completed(
    ctx: &Ctx<'_>,
    exec: &mut ExecutionRecord,
    error: Option<&ErrorObject>,
) -> Result<(), EngineError> {
    let mut details = Map::new();
    details.insert("StartTimestamp".into(), json!(exec.run.invocation_started_ms));
    details.insert("EndTimestamp".into(), json!(ctx.now));
    details.insert("RequestId".into(), json!(exec.run.request_id));
    if let Some(error) = error {
        details.insert("Error".into(), history::error_object(error));
    }
    record(ctx, exec, history::of_execution(EventType::InvocationCompleted, None, details, ctx.now))
}

pub(super) fn invocation_ended(
    ctx: &mut Ctx<'_>,
    arn: &str,
    invocation: u64,
    result: &InvocationResult,
) -> Result<(), EngineError> {
    let Some(mut exec) = store::execution(ctx.tx, arn)? else { return Ok(()) };
    if exec.status != ExecutionStatus::Running || !exec.run.invoking || exec.run.invocation != invocation {
        return Ok(());
    }
    exec.run.invoking = false;
    exec.run.token = None;
    let failure = match result {
        InvocationResult::Output(output) => match output.status.as_str() {
            "SUCCEEDED" => {
                invocation_completed(ctx, &mut exec, None)?;
                let checkpointed = exec.run.checkpointed_outcome.take();
                let result = match (output.result.clone().filter(|r| !r.is_empty()), checkpointed) {
                    (Some(result), _) => Some(result),
                    (None, Some(Outcome::Succeeded(result))) => result,
                    (None, _) => output.result.clone(),
                };
                complete(ctx, &mut exec, Outcome::Succeeded(result))?;
                store::update_execution(ctx.tx, &exec)?;
                return Ok(());
            }
            "FAILED" => {
                invocation_completed(ctx, &mut exec, None)?;
                let checkpointed = exec.run.checkpointed_outcome.take();
                let error = match (output.error.clone(), checkpointed) {
                    (Some(error), _) | (None, Some(Outcome::Failed(error))) => error,
                    (None, _) => ErrorObject::new("HandlerError", "the handler reported FAILED without an error"),
                };
                complete(ctx, &mut exec, Outcome::Failed(error))?;
                store::update_execution(ctx.tx, &exec)?;
                return Ok(());
            }
            "PENDING" => {
                if exec.run.op_seq > exec.run.seen_seq || has_pending_work(ctx, &exec)? {
                    invocation_completed(ctx, &mut exec, None)?;
                    exec.run.failures = 0;
                    apply_inbox(ctx, &mut exec)?;
                    invoke_if_changed(ctx, &mut exec)?;
                    store::update_execution(ctx.tx, &exec)?;
                    return Ok(());
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
    invocation_completed(ctx, &mut exec, Some(&failure))?;
    exec.run.failures += 1;
    if exec.run.failures >= ctx.config.max_invocation_failures {
        complete(ctx, &mut exec, Outcome::Failed(failure))?;
    } else {
        apply_inbox(ctx, &mut exec)?;
        let at = ctx.now.saturating_add(invocation_backoff_ms(exec.run.failures));
        arm(ctx, &exec, timer::INVOKE, at)?;
    }
    store::update_execution(ctx.tx, &exec)?;
    Ok(())
}

/// Whether anything can still wake the execution: an operation waiting on a timer, a callback or a target, or a
/// queued completion.
fn has_pending_work(ctx: &Ctx<'_>, exec: &ExecutionRecord) -> Result<bool, EngineError> {
    let ops = store::operations(ctx.tx, exec.key)?;
    Ok(ops.iter().any(|op| match op.operation_type {
        OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => {
            op.status == OperationStatus::Started
        }
        OperationType::Step => matches!(op.status, OperationStatus::Pending | OperationStatus::Ready),
        OperationType::Execution | OperationType::Context => false,
    }))
}

/// Takes a completion now, or queues it while the handler runs.
pub(super) fn deliver(
    ctx: &mut Ctx<'_>,
    exec: &mut ExecutionRecord,
    completion: &Completion,
) -> Result<(), EngineError> {
    if exec.status != ExecutionStatus::Running {
        return Ok(());
    }
    if exec.run.invoking {
        let body = serde_json::to_string(completion).map_err(|e| EngineError::Store(e.to_string().into()))?;
        store::push_inbox(ctx.tx, exec.key, &body)?;
        return Ok(());
    }
    apply_completion(ctx, exec, completion)?;
    invoke_if_changed(ctx, exec)
}

fn apply_inbox(ctx: &mut Ctx<'_>, exec: &mut ExecutionRecord) -> Result<(), EngineError> {
    for body in store::take_inbox(ctx.tx, exec.key)? {
        let completion: Completion = serde_json::from_str(&body)
            .map_err(|e| EngineError::Store(format!("unreadable queued completion: {e}").into()))?;
        apply_completion(ctx, exec, &completion)?;
    }
    Ok(())
}

fn apply_completion(ctx: &mut Ctx<'_>, exec: &mut ExecutionRecord, completion: &Completion) -> Result<(), EngineError> {
    match completion {
        Completion::Target { operation, outcome } => {
            let Some(mut op) = store::operation(ctx.tx, exec.key, operation)? else { return Ok(()) };
            if op.operation_type != OperationType::ChainedInvoke || op.status != OperationStatus::Started {
                return Ok(());
            }
            let (status, event_type, details, chained) = match outcome {
                StoredTargetOutcome::Succeeded(result) => (
                    OperationStatus::Succeeded,
                    EventType::ChainedInvokeSucceeded,
                    history::result(result.as_deref()),
                    ChainedInvokeDetails { result: result.clone(), error: None },
                ),
                StoredTargetOutcome::Failed(error) => (
                    OperationStatus::Failed,
                    EventType::ChainedInvokeFailed,
                    history::error(error),
                    ChainedInvokeDetails { result: None, error: Some(error.clone()) },
                ),
                StoredTargetOutcome::TimedOut(error) => (
                    OperationStatus::TimedOut,
                    EventType::ChainedInvokeTimedOut,
                    history::error(error),
                    ChainedInvokeDetails { result: None, error: Some(error.clone()) },
                ),
                StoredTargetOutcome::Stopped(error) => (
                    OperationStatus::Stopped,
                    EventType::ChainedInvokeStopped,
                    history::error(error),
                    ChainedInvokeDetails { result: None, error: Some(error.clone()) },
                ),
            };
            op.status = status;
            op.end_timestamp = Some(ctx.now);
            op.chained_invoke_details = Some(chained);
            put_op(ctx, exec, &op)?;
            exec.run.children.remove(operation);
            exec.run.targets.remove(operation);
            record(ctx, exec, history::of_operation(event_type, &op, details, ctx.now))
        }
        Completion::Timer { name } => timer_completion(ctx, exec, name),
    }
}

fn timer_completion(ctx: &mut Ctx<'_>, exec: &mut ExecutionRecord, name: &str) -> Result<(), EngineError> {
    let (kind, id) = name.split_once(':').unwrap_or((name, ""));
    let Some(mut op) = store::operation(ctx.tx, exec.key, id)? else { return Ok(()) };
    match (kind, op.operation_type, op.status) {
        ("op", OperationType::Wait, OperationStatus::Started) => {
            op.status = OperationStatus::Succeeded;
            op.end_timestamp = Some(ctx.now);
            put_op(ctx, exec, &op)?;
            let scheduled = op.wait_details.as_ref().and_then(|d| d.scheduled_end_timestamp).unwrap_or(ctx.now);
            let mut details = Map::new();
            details.insert("Duration".into(), json!((scheduled - op.start_timestamp) / 1000));
            record(ctx, exec, history::of_operation(EventType::WaitSucceeded, &op, details, ctx.now))
        }
        ("op", OperationType::Step, OperationStatus::Pending) => {
            op.status = OperationStatus::Ready;
            put_op(ctx, exec, &op)
        }
        ("cb" | "hb", OperationType::Callback, OperationStatus::Started) => {
            let error = if kind == "cb" {
                ErrorObject::new("Callback.Timeout", "Callback timed out")
            } else {
                ErrorObject::new("Callback.Heartbeat", "Callback timed out waiting for a heartbeat")
            };
            store::delete_timer(ctx.tx, exec.key, &timer::callback(id))?;
            store::delete_timer(ctx.tx, exec.key, &timer::heartbeat(id))?;
            exec.run.heartbeats.remove(id);
            op.status = OperationStatus::TimedOut;
            op.end_timestamp = Some(ctx.now);
            let details = op.callback_details.get_or_insert_with(CallbackDetails::default);
            details.error = Some(error.clone());
            put_op(ctx, exec, &op)?;
            record(ctx, exec, history::of_operation(EventType::CallbackTimedOut, &op, history::error(&error), ctx.now))
        }
        _ => Ok(()),
    }
}

pub(super) fn timer_fired(ctx: &mut Ctx<'_>, arn: &str, name: &str) -> Result<(), EngineError> {
    let Some(mut exec) = store::execution(ctx.tx, arn)? else { return Ok(()) };
    if exec.status != ExecutionStatus::Running {
        return Ok(());
    }
    // A timer re-armed later (a heartbeat) leaves its earlier alarm behind: only the stored time counts.
    match store::timer(ctx.tx, exec.key, name)? {
        Some(at) if at <= ctx.now => {}
        _ => return Ok(()),
    }
    store::delete_timer(ctx.tx, exec.key, name)?;
    match name {
        timer::EXECUTION_TIMEOUT => {
            let error = ErrorObject::new(
                "Execution.TimedOut",
                format!("The durable execution exceeded its ExecutionTimeout of {} seconds", exec.timeout_s),
            );
            terminate(ctx, &mut exec, ExecutionStatus::TimedOut, error)?;
        }
        timer::INVOKE => {
            if !exec.run.invoking {
                begin_invocation(ctx, &mut exec)?;
            }
        }
        _ => deliver(ctx, &mut exec, &Completion::Timer { name: name.to_owned() })?,
    }
    store::update_execution(ctx.tx, &exec)?;
    Ok(())
}

pub(super) fn callback(ctx: &mut Ctx<'_>, callback_id: &str, command: CallbackCommand) -> Result<(), EngineError> {
    let not_found = || EngineError::NotFound(format!("Callback not found: {callback_id}"));
    let (key, mut op) = store::operation_by_callback(ctx.tx, callback_id)?.ok_or_else(not_found)?;
    let arn: String = ctx.tx.query_row("SELECT arn FROM executions WHERE key = ?1", [key], |r| r.get(0))?;
    let mut exec = store::execution(ctx.tx, &arn)?.ok_or_else(not_found)?;
    if exec.status != ExecutionStatus::Running || op.status != OperationStatus::Started {
        return Err(EngineError::InvalidParameter(format!(
            "Callback {callback_id} is already completed ({:?}); it accepts no more results",
            op.status
        )));
    }
    let id = op.id.clone();
    let (event_type, details) = match command {
        CallbackCommand::Heartbeat => {
            if let Some(seconds) = exec.run.heartbeats.get(&id).copied() {
                let at = ctx.now.saturating_add(seconds.saturating_mul(1000));
                arm(ctx, &exec, &timer::heartbeat(&id), at)?;
            }
            return Ok(());
        }
        CallbackCommand::Succeed(result) => {
            op.status = OperationStatus::Succeeded;
            let details = history::result(result.as_deref());
            op.callback_details.get_or_insert_with(CallbackDetails::default).result = result;
            (EventType::CallbackSucceeded, details)
        }
        CallbackCommand::Fail(error) => {
            op.status = OperationStatus::Failed;
            let details = history::error(&error);
            op.callback_details.get_or_insert_with(CallbackDetails::default).error = Some(error);
            (EventType::CallbackFailed, details)
        }
    };
    op.end_timestamp = Some(ctx.now);
    store::delete_timer(ctx.tx, exec.key, &timer::callback(&id))?;
    store::delete_timer(ctx.tx, exec.key, &timer::heartbeat(&id))?;
    exec.run.heartbeats.remove(&id);
    put_op(ctx, &mut exec, &op)?;
    record(ctx, &mut exec, history::of_operation(event_type, &op, details, ctx.now))?;
    invoke_if_changed(ctx, &mut exec)?;
    store::update_execution(ctx.tx, &exec)?;
    Ok(())
}

/// Stops or times out a running execution: its open operations are cancelled (the history says which), then the
/// execution ends with `status`.
pub(super) fn terminate(
    ctx: &mut Ctx<'_>,
    exec: &mut ExecutionRecord,
    status: ExecutionStatus,
    error: ErrorObject,
) -> Result<(), EngineError> {
    for mut op in store::operations(ctx.tx, exec.key)? {
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
                exec.run.targets.remove(&op.id);
                if let Some(child) = exec.run.children.remove(&op.id) {
                    stop_child(ctx, &child, &error)?;
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
        put_op(ctx, exec, &op)?;
        if let Some((event_type, details)) = cancelled {
            record(ctx, exec, history::of_operation(event_type, &op, details, ctx.now))?;
        }
    }
    finish(ctx, exec, status, None, Some(error))
}

fn stop_child(ctx: &mut Ctx<'_>, child: &str, error: &ErrorObject) -> Result<(), EngineError> {
    let Some(mut exec) = store::execution(ctx.tx, child)? else { return Ok(()) };
    if exec.status == ExecutionStatus::Running {
        // The parent is ending: the child must not report back into it.
        exec.run.parent = None;
        terminate(ctx, &mut exec, ExecutionStatus::Stopped, error.clone())?;
        store::update_execution(ctx.tx, &exec)?;
    }
    Ok(())
}

/// Ends the execution with the handler's outcome.
pub(super) fn complete(ctx: &mut Ctx<'_>, exec: &mut ExecutionRecord, outcome: Outcome) -> Result<(), EngineError> {
    match outcome {
        Outcome::Succeeded(result) => finish(ctx, exec, ExecutionStatus::Succeeded, result, None),
        Outcome::Failed(error) => finish(ctx, exec, ExecutionStatus::Failed, None, Some(error)),
    }
}

fn finish(
    ctx: &mut Ctx<'_>,
    exec: &mut ExecutionRecord,
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
) -> Result<(), EngineError> {
    let ops = store::operations(ctx.tx, exec.key)?;
    let execution_op = ops.into_iter().find(|op| op.operation_type == OperationType::Execution);
    let op_id = execution_op.as_ref().map(|op| op.id.clone()).unwrap_or_default();
    if let Some(mut op) = execution_op {
        op.status = match status {
            ExecutionStatus::Succeeded => OperationStatus::Succeeded,
            ExecutionStatus::Failed => OperationStatus::Failed,
            ExecutionStatus::TimedOut => OperationStatus::TimedOut,
            ExecutionStatus::Stopped | ExecutionStatus::Running => OperationStatus::Stopped,
        };
        op.end_timestamp = Some(ctx.now);
        put_op(ctx, exec, &op)?;
    }
    let (event_type, details) = match (status, &error) {
        (ExecutionStatus::Succeeded, _) => (EventType::ExecutionSucceeded, history::result(result.as_deref())),
        (ExecutionStatus::Failed, Some(e)) => (EventType::ExecutionFailed, history::error(e)),
        (ExecutionStatus::TimedOut, Some(e)) => (EventType::ExecutionTimedOut, history::error(e)),
        (_, Some(e)) => (EventType::ExecutionStopped, history::error(e)),
        (_, None) => (EventType::ExecutionStopped, Map::new()),
    };
    let name = exec.name.clone();
    record(ctx, exec, history::of_execution(event_type, Some((&op_id, &name)), details, ctx.now))?;
    exec.status = status;
    exec.result.clone_from(&result);
    exec.error.clone_from(&error);
    exec.ended_ms = Some(ctx.now);
    exec.run.invoking = false;
    exec.run.token = None;
    exec.run.heartbeats.clear();
    store::delete_timers(ctx.tx, exec.key)?;
    store::take_inbox(ctx.tx, exec.key)?;
    ctx.actions.push(Action::Ended { execution: exec.arn.clone() });
    if let Some(parent) = exec.run.parent.clone() {
        let outcome = match status {
            ExecutionStatus::Succeeded => StoredTargetOutcome::Succeeded(result),
            ExecutionStatus::TimedOut => StoredTargetOutcome::TimedOut(error.unwrap_or_default()),
            ExecutionStatus::Stopped => StoredTargetOutcome::Stopped(error.unwrap_or_default()),
            ExecutionStatus::Failed | ExecutionStatus::Running => {
                StoredTargetOutcome::Failed(error.unwrap_or_default())
            }
        };
        if let Some(mut parent_exec) = store::execution(ctx.tx, &parent.execution)? {
            deliver(ctx, &mut parent_exec, &Completion::Target { operation: parent.operation, outcome })?;
            store::update_execution(ctx.tx, &parent_exec)?;
        }
    }
    Ok(())
}

pub(super) fn recover(ctx: &mut Ctx<'_>) -> Result<(), EngineError> {
    for mut exec in store::executions_with_status(ctx.tx, ExecutionStatus::Running)? {
        for (timer, at_ms) in
            store::all_timers(ctx.tx)?.into_iter().filter(|(arn, _, _)| *arn == exec.arn).map(|(_, t, at)| (t, at))
        {
            ctx.actions.push(Action::ArmTimer { execution: exec.arn.clone(), timer, at_ms });
        }
        for op in store::operations(ctx.tx, exec.key)? {
            if op.operation_type == OperationType::ChainedInvoke
                && op.status == OperationStatus::Started
                && !exec.run.children.contains_key(&op.id)
            {
                reissue_target(ctx, &exec, &op);
            }
        }
        if exec.run.invoking {
            // The invocation was cut short with the process that ran it: run it again.
            exec.run.invoking = false;
            begin_invocation(ctx, &mut exec)?;
        } else {
            apply_inbox(ctx, &mut exec)?;
            invoke_if_changed(ctx, &mut exec)?;
        }
        store::update_execution(ctx.tx, &exec)?;
    }
    Ok(())
}

/// Issues a chained invoke again whose target never reported (at least once for the target).
fn reissue_target(ctx: &mut Ctx<'_>, exec: &ExecutionRecord, op: &Operation) {
    if let Some(target) = exec.run.targets.get(&op.id) {
        ctx.actions.push(Action::InvokeTarget {
            execution: exec.arn.clone(),
            operation: op.id.clone(),
            function_name: target.function_name.clone(),
            qualifier: target.qualifier.clone(),
            payload: target.payload.clone(),
            tenant_id: target.tenant_id.clone(),
        });
    }
}

/// Starts the child execution of a chained invoke of a durable function; returns its ARN.
pub(super) fn begin_invocation_for_child(
    ctx: &mut Ctx<'_>,
    request: &StartRequest,
    parent: ParentLink,
) -> Result<String, EngineError> {
    Ok(start(ctx, request, Some(parent))?.record().arn.clone())
}
