//! `CheckpointDurableExecution`, decided: validates a batch of operation updates against the loaded operations
//! and applies them in order, each with the history event and timers its transition brings.

use serde_json::{Map, json};
use sha2::Digest as _;

use super::decision::{Answer, Ctx, Decision, Env, FollowUp};
use super::lifecycle::execution_arn;
use super::model::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, EventType, Operation, OperationAction,
    OperationStatus, OperationType, OperationUpdate, StepDetails, WaitDetails,
};
use super::state::{CachedCheckpoint, EndResult, ExecutionState, ParentLink, PendingTarget};
use super::{Action, CheckpointAnswer, EngineError, Functions, StartRequest, history, timer};

/// The largest error object the service stores.
const MAX_ERROR_BYTES: usize = 32_768;

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::InvalidParameter(message.into())
}

fn request_hash(updates: &[OperationUpdate], client_token: Option<&str>) -> String {
    let mut hasher = sha2::Sha256::new();
    hasher.update(serde_json::to_vec(updates).unwrap_or_default());
    hasher.update(client_token.unwrap_or_default().as_bytes());
    hex::encode(hasher.finalize())
}

pub(super) fn checkpoint(
    state: Option<ExecutionState>,
    arn: &str,
    token: &str,
    updates: &[OperationUpdate],
    client_token: Option<&str>,
    functions: &dyn Functions,
    env: &Env<'_>,
) -> Result<Decision, EngineError> {
    let mut ctx = Ctx::new(state.ok_or_else(|| super::not_found(arn))?, env);
    let hash = request_hash(updates, client_token);
    let run = &ctx.exec.run;
    if let Some(cached) = run.last_checkpoint.as_ref().filter(|c| c.token_in == token && c.request_hash == hash) {
        // The same request again (its answer was lost on the way): the same answer, nothing applied twice.
        let answer = CheckpointAnswer { token: cached.token_out.clone(), operations: cached.operations.clone() };
        return Ok(Decision::answer(Answer::Checkpoint(answer)));
    }
    if ctx.exec.status != super::ExecutionStatus::Running || run.token.as_deref() != Some(token) {
        return Err(invalid("Invalid checkpoint token"));
    }
    validate_batch(updates)?;
    for update in updates {
        apply_update(&mut ctx, update, functions)?;
    }
    let next = format!("{}.{}", ctx.exec.run.invocation, ctx.hex_id());
    let operations = ctx.operations_since(ctx.exec.run.seen_seq);
    let run = &mut ctx.exec.run;
    run.seen_seq = run.op_seq;
    run.token = Some(next.clone());
    run.last_checkpoint = Some(CachedCheckpoint {
        token_in: token.to_owned(),
        request_hash: hash,
        token_out: next.clone(),
        operations: operations.clone(),
    });
    Ok(ctx.decide(Answer::Checkpoint(CheckpointAnswer { token: next, operations })))
}

/// Rules over the batch as a whole.
fn validate_batch(updates: &[OperationUpdate]) -> Result<(), EngineError> {
    let executions = updates.iter().filter(|u| u.operation_type == OperationType::Execution).count();
    if executions > 1 {
        return Err(invalid("Cannot checkpoint multiple EXECUTION updates."));
    }
    if executions == 1 && updates.last().is_some_and(|u| u.operation_type != OperationType::Execution) {
        return Err(invalid("EXECUTION checkpoint must be the last update."));
    }
    let mut last: std::collections::HashMap<&str, &OperationUpdate> = std::collections::HashMap::new();
    for update in updates {
        if update.id.is_empty() || update.id.len() > 64 {
            return Err(invalid(format!("Invalid operation id {:?}: 1 to 64 characters", update.id)));
        }
        if let Some(previous) = last.get(update.id.as_str()) {
            // A step or context may start and end in one batch; nothing else may appear twice.
            let start_then_end = matches!(previous.operation_type, OperationType::Step | OperationType::Context)
                && previous.action == OperationAction::Start
                && update.action != OperationAction::Start;
            if !start_then_end {
                return Err(invalid("Cannot checkpoint multiple operations with the same ID."));
            }
        }
        if let Some(error) = &update.error
            && serde_json::to_vec(error).map_or(0, |b| b.len()) > MAX_ERROR_BYTES
        {
            return Err(invalid(format!("Error object size must be less than {MAX_ERROR_BYTES} bytes.")));
        }
        last.insert(&update.id, update);
    }
    Ok(())
}

fn apply_update(ctx: &mut Ctx<'_>, update: &OperationUpdate, functions: &dyn Functions) -> Result<(), EngineError> {
    let current = ctx.op(&update.id);
    if let Some(current) = &current {
        check_identity(current, update)?;
    }
    if let Some(parent) = &update.parent_id {
        let known = ctx
            .op(parent)
            .is_some_and(|p| matches!(p.operation_type, OperationType::Context | OperationType::Execution));
        if !known {
            return Err(invalid(format!("Invalid parent operation id {parent}.")));
        }
    }
    match update.operation_type {
        OperationType::Step => step(ctx, current, update),
        OperationType::Context => context(ctx, current, update),
        OperationType::Wait => wait(ctx, current, update),
        OperationType::Callback => callback(ctx, current.as_ref(), update),
        OperationType::ChainedInvoke => chained_invoke(ctx, current.as_ref(), update, functions),
        OperationType::Execution => execution(ctx, update),
    }
}

/// An update must name an operation the way it was first recorded.
fn check_identity(current: &Operation, update: &OperationUpdate) -> Result<(), EngineError> {
    if current.operation_type != update.operation_type {
        return Err(invalid("Inconsistent operation type."));
    }
    if update.sub_type.is_some() && update.sub_type != current.sub_type {
        return Err(invalid("Inconsistent operation subtype."));
    }
    if update.name.is_some() && update.name != current.name {
        return Err(invalid("Inconsistent operation name."));
    }
    if update.parent_id.is_some() && update.parent_id != current.parent_id {
        return Err(invalid("Inconsistent parent operation id."));
    }
    Ok(())
}

fn no_payload_on_fail(update: &OperationUpdate, kind: &str) -> Result<(), EngineError> {
    match update.action {
        OperationAction::Fail if update.payload.is_some() => {
            Err(invalid(format!("Cannot provide a Payload for FAIL action of a {kind}.")))
        }
        OperationAction::Succeed if update.error.is_some() => {
            Err(invalid(format!("Cannot provide an Error for SUCCEED action of a {kind}.")))
        }
        _ => Ok(()),
    }
}

fn step(ctx: &mut Ctx<'_>, current: Option<Operation>, update: &OperationUpdate) -> Result<(), EngineError> {
    no_payload_on_fail(update, "STEP")?;
    let status = current.as_ref().map(|c| c.status);
    let open = matches!(status, None | Some(OperationStatus::Started | OperationStatus::Ready));
    let mut op = current.unwrap_or_else(|| {
        let mut op = Operation::started(update, OperationStatus::Started, ctx.now);
        op.step_details = Some(StepDetails::default());
        op
    });
    let attempt = op.step_details.as_ref().map_or(0, |d| d.attempt);
    let (event_type, details) = match update.action {
        OperationAction::Start => {
            // A fresh step, one whose retry delay elapsed, or one whose attempt was cut short by a crash.
            if !matches!(status, None | Some(OperationStatus::Ready | OperationStatus::Started)) {
                return Err(invalid("Invalid current STEP state to start."));
            }
            op.status = OperationStatus::Started;
            if let Some(details) = op.step_details.as_mut() {
                details.next_attempt_timestamp = None;
            }
            (EventType::StepStarted, history::empty())
        }
        OperationAction::Succeed | OperationAction::Fail => {
            if !open {
                return Err(invalid("Invalid current STEP state to close."));
            }
            let details = op.step_details.get_or_insert_with(StepDetails::default);
            details.next_attempt_timestamp = None;
            let mut event = Map::new();
            let event_type = if update.action == OperationAction::Succeed {
                op.status = OperationStatus::Succeeded;
                details.result.clone_from(&update.payload);
                details.error = None;
                event.insert("Result".into(), history::payload_object(update.payload.as_deref()));
                EventType::StepSucceeded
            } else {
                op.status = OperationStatus::Failed;
                details.error.clone_from(&update.error);
                event.insert("Error".into(), history::error_object(&update.error.clone().unwrap_or_default()));
                EventType::StepFailed
            };
            event.insert("RetryDetails".into(), history::retry_details(attempt + 1, None));
            op.end_timestamp = Some(ctx.now);
            (event_type, event)
        }
        OperationAction::Retry => {
            if !open {
                return Err(invalid("Invalid current STEP state to re-attempt."));
            }
            let Some(options) = &update.step_options else {
                return Err(invalid("Invalid StepOptions for the given action."));
            };
            if update.error.is_some() && update.payload.is_some() {
                return Err(invalid("Cannot provide both an Error and a Payload for RETRY action."));
            }
            let delay = options.next_attempt_delay_seconds.unwrap_or(0).max(0);
            let next = ctx.now.saturating_add(delay.saturating_mul(1000));
            op.status = OperationStatus::Pending;
            op.step_details = Some(StepDetails {
                attempt: attempt + 1,
                next_attempt_timestamp: Some(next),
                result: update.payload.clone(),
                error: update.error.clone(),
            });
            let mut event = Map::new();
            // A retry with an error is a failed attempt; without one it carries state forward (wait-for-condition).
            let event_type = if let Some(error) = &update.error {
                event.insert("Error".into(), history::error_object(error));
                EventType::StepFailed
            } else {
                event.insert("Result".into(), history::payload_object(update.payload.as_deref()));
                EventType::StepSucceeded
            };
            event.insert("RetryDetails".into(), history::retry_details(attempt + 1, Some(delay)));
            let at = ctx.operation_timer_at(next);
            ctx.arm(&timer::operation(&op.id), at);
            (event_type, event)
        }
        OperationAction::Cancel => return Err(invalid("Invalid STEP action.")),
    };
    let event = history::of_operation(event_type, &op, details, ctx.now);
    ctx.put_op(op);
    ctx.record(event);
    Ok(())
}

fn context(ctx: &mut Ctx<'_>, current: Option<Operation>, update: &OperationUpdate) -> Result<(), EngineError> {
    no_payload_on_fail(update, "CONTEXT")?;
    let replay_children = update.context_options.as_ref().and_then(|o| o.replay_children);
    let (op, event_type, details) = match (update.action, current) {
        (OperationAction::Start, None) => {
            let mut op = Operation::started(update, OperationStatus::Started, ctx.now);
            op.context_details = Some(ContextDetails { replay_children, ..ContextDetails::default() });
            (op, EventType::ContextStarted, history::empty())
        }
        (OperationAction::Start, Some(_)) => return Err(invalid("Cannot start a CONTEXT that already exists.")),
        (OperationAction::Succeed | OperationAction::Fail, current) => {
            if current.as_ref().is_some_and(|c| c.status != OperationStatus::Started) {
                return Err(invalid("Invalid current CONTEXT state to close."));
            }
            let mut op = current.unwrap_or_else(|| Operation::started(update, OperationStatus::Started, ctx.now));
            op.end_timestamp = Some(ctx.now);
            let details = op.context_details.get_or_insert_with(ContextDetails::default);
            if replay_children.is_some() {
                details.replay_children = replay_children;
            }
            if update.action == OperationAction::Succeed {
                op.status = OperationStatus::Succeeded;
                details.result.clone_from(&update.payload);
                (op, EventType::ContextSucceeded, history::result(update.payload.as_deref()))
            } else {
                op.status = OperationStatus::Failed;
                let error = update.error.clone().unwrap_or_default();
                details.error = Some(error.clone());
                (op, EventType::ContextFailed, history::error(&error))
            }
        }
        _ => return Err(invalid("Invalid CONTEXT action.")),
    };
    let event = history::of_operation(event_type, &op, details, ctx.now);
    ctx.put_op(op);
    ctx.record(event);
    Ok(())
}

fn wait(ctx: &mut Ctx<'_>, current: Option<Operation>, update: &OperationUpdate) -> Result<(), EngineError> {
    match (update.action, current) {
        (OperationAction::Start, None) => {
            let seconds = update.wait_options.as_ref().and_then(|o| o.wait_seconds).unwrap_or(0).max(0);
            let end = ctx.now.saturating_add(seconds.saturating_mul(1000));
            let mut op = Operation::started(update, OperationStatus::Started, ctx.now);
            op.wait_details = Some(WaitDetails { scheduled_end_timestamp: Some(end) });
            let mut details = Map::new();
            details.insert("Duration".into(), json!(seconds));
            details.insert("ScheduledEndTimestamp".into(), json!(end));
            let event = history::of_operation(EventType::WaitStarted, &op, details, ctx.now);
            let timer = timer::operation(&op.id);
            ctx.put_op(op);
            ctx.record(event);
            let at = ctx.operation_timer_at(end);
            ctx.arm(&timer, at);
            Ok(())
        }
        (OperationAction::Start, Some(_)) => Err(invalid("Cannot start a WAIT that already exists.")),
        (OperationAction::Cancel, Some(mut op)) if op.status == OperationStatus::Started => {
            op.status = OperationStatus::Cancelled;
            op.end_timestamp = Some(ctx.now);
            ctx.disarm(&timer::operation(&op.id));
            let details = update.error.as_ref().map_or_else(history::empty, history::error);
            let event = history::of_operation(EventType::WaitCancelled, &op, details, ctx.now);
            ctx.put_op(op);
            ctx.record(event);
            Ok(())
        }
        (OperationAction::Cancel, _) => {
            Err(invalid("Cannot cancel a WAIT that does not exist or has already completed."))
        }
        _ => Err(invalid("Invalid WAIT action.")),
    }
}

fn callback(ctx: &mut Ctx<'_>, current: Option<&Operation>, update: &OperationUpdate) -> Result<(), EngineError> {
    if update.action != OperationAction::Start {
        return Err(invalid("Invalid action for CALLBACK operation."));
    }
    if current.is_some() {
        return Err(invalid("Cannot start a CALLBACK that already exists."));
    }
    let options = update.callback_options.clone().unwrap_or_default();
    let timeout = options.timeout_seconds.filter(|s| *s > 0);
    let heartbeat = options.heartbeat_timeout_seconds.filter(|s| *s > 0);
    // Opaque, URL-safe, unguessable.
    let callback_id = format!("{}{}", ctx.hex_id(), ctx.hex_id());
    let mut op = Operation::started(update, OperationStatus::Started, ctx.now);
    op.callback_details = Some(CallbackDetails { callback_id: Some(callback_id.clone()), result: None, error: None });
    let mut details = Map::new();
    details.insert("CallbackId".into(), json!(callback_id));
    if let Some(seconds) = heartbeat {
        details.insert("HeartbeatTimeout".into(), json!(seconds));
    }
    if let Some(seconds) = timeout {
        details.insert("Timeout".into(), json!(seconds));
    }
    let event = history::of_operation(EventType::CallbackStarted, &op, details, ctx.now);
    let id = op.id.clone();
    ctx.put_op(op);
    ctx.record(event);
    if let Some(seconds) = timeout {
        let at = ctx.operation_timer_at(ctx.now.saturating_add(seconds.saturating_mul(1000)));
        ctx.arm(&timer::callback(&id), at);
    }
    if let Some(seconds) = heartbeat {
        ctx.exec.run.heartbeats.insert(id.clone(), seconds);
        ctx.arm(&timer::heartbeat(&id), ctx.now.saturating_add(seconds.saturating_mul(1000)));
    }
    Ok(())
}

fn chained_invoke(
    ctx: &mut Ctx<'_>,
    current: Option<&Operation>,
    update: &OperationUpdate,
    functions: &dyn Functions,
) -> Result<(), EngineError> {
    if update.action != OperationAction::Start {
        return Err(invalid("Invalid action for CHAINED_INVOKE operation."));
    }
    if current.is_some() {
        return Err(invalid("Cannot start a CHAINED_INVOKE that already exists."));
    }
    let options = update
        .chained_invoke_options
        .as_ref()
        .ok_or_else(|| invalid("Update for CHAINED_INVOKE operation requires ChainedInvokeOptions."))?;
    let identifier = options
        .function_name
        .clone()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| invalid("ChainedInvokeOptions.FunctionName is required."))?;
    let mut op = Operation::started(update, OperationStatus::Started, ctx.now);
    op.chained_invoke_details = Some(ChainedInvokeDetails::default());
    let mut details = Map::new();
    details.insert("FunctionName".into(), json!(identifier));
    if let Some(tenant) = &options.tenant_id {
        details.insert("TenantId".into(), json!(tenant));
    }
    details.insert("Input".into(), history::payload_object(update.payload.as_deref()));
    match functions.resolve(&identifier) {
        Err(error) => {
            // The target cannot be resolved: the operation fails in the answer to this very checkpoint.
            op.status = OperationStatus::Failed;
            op.end_timestamp = Some(ctx.now);
            op.chained_invoke_details = Some(ChainedInvokeDetails { result: None, error: Some(error.clone()) });
            details.insert("DurableExecutionArn".into(), json!(ctx.exec.arn));
            let started = history::of_operation(EventType::ChainedInvokeStarted, &op, details, ctx.now);
            let failed = history::of_operation(EventType::ChainedInvokeFailed, &op, history::error(&error), ctx.now);
            ctx.put_op(op);
            ctx.record(started);
            ctx.record(failed);
            Ok(())
        }
        Ok(target) => {
            ctx.put_op(op.clone());
            details.insert("ExecutedVersion".into(), json!(target.qualifier));
            let named = if let Some((timeout_s, retention_days)) = target.durable {
                let request = StartRequest {
                    function_name: target.function_name.clone(),
                    function_arn: target.function_arn.clone(),
                    qualifier: target.qualifier.clone(),
                    name: None,
                    input: update.payload.clone().unwrap_or_else(|| "{}".to_owned()),
                    timeout_s,
                    retention_days,
                };
                let parent = ParentLink { execution: ctx.exec.arn.clone(), operation: op.id.clone() };
                let (name, id) = (ctx.id(), ctx.id());
                let child = execution_arn(&request.function_arn, &request.qualifier, &name, &id);
                ctx.follow(FollowUp::StartChild { request, parent, name, id });
                ctx.exec.run.children.insert(op.id.clone(), child.clone());
                child
            } else {
                let pending = PendingTarget {
                    function_name: target.function_name.clone(),
                    qualifier: target.qualifier.clone(),
                    payload: update.payload.clone(),
                    tenant_id: options.tenant_id.clone(),
                };
                ctx.act(Action::InvokeTarget {
                    execution: ctx.exec.arn.clone(),
                    operation: op.id.clone(),
                    function_name: pending.function_name.clone(),
                    qualifier: pending.qualifier.clone(),
                    payload: pending.payload.clone(),
                    tenant_id: pending.tenant_id.clone(),
                });
                ctx.exec.run.targets.insert(op.id.clone(), pending);
                // A plain target runs inside this execution: the history names the execution itself.
                ctx.exec.arn.clone()
            };
            details.insert("DurableExecutionArn".into(), json!(named));
            let event = history::of_operation(EventType::ChainedInvokeStarted, &op, details, ctx.now);
            ctx.record(event);
            Ok(())
        }
    }
}

fn execution(ctx: &mut Ctx<'_>, update: &OperationUpdate) -> Result<(), EngineError> {
    match update.action {
        OperationAction::Succeed if update.error.is_some() => {
            Err(invalid("Cannot provide an Error for SUCCEED action of the EXECUTION."))
        }
        OperationAction::Succeed => {
            ctx.exec.run.checkpointed_outcome = Some(EndResult::Succeeded(update.payload.clone()));
            Ok(())
        }
        OperationAction::Fail if update.payload.is_some() => {
            Err(invalid("Cannot provide a Payload for FAIL action of the EXECUTION."))
        }
        OperationAction::Fail => {
            let error = update.error.clone().unwrap_or_else(|| ErrorObject::new("HandlerError", "execution failed"));
            ctx.exec.run.checkpointed_outcome = Some(EndResult::Failed(error));
            Ok(())
        }
        _ => Err(invalid("Invalid EXECUTION action.")),
    }
}
