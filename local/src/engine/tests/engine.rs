//! The engine with its store: what the decisions' tables cannot show. Loading and storing (a flow of commands
//! through the store, in memory, on a clock moved by hand), commands between executions (a child started, its end
//! told to its parent, stopped with it), refusals that store nothing, recovery from what the store holds, and the
//! reads: paging of histories, lists and state, retention.

use std::sync::Arc;
use std::time::Duration;

use super::{Deployed, update};
use crate::engine::model::*;
use crate::engine::*;

struct Harness {
    clock: Arc<ManualClock>,
    engine: Engine,
}

impl Harness {
    fn advance(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }
}

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:fn-orchestrator";

fn harness(config: EngineConfig) -> Harness {
    let (env, clock) = Environment::manual(1_764_000_000_000);
    let engine = Engine::in_memory(env, config).unwrap();
    Harness { clock, engine }
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

fn output(status: &str, result: Option<&str>) -> InvocationResult {
    InvocationResult::Output(HandlerOutput { status: status.into(), result: result.map(str::to_owned), error: None })
}

fn invocations(actions: &[Action]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::InvokeHandler { invocation, .. } => Some(*invocation),
            _ => None,
        })
        .collect()
}

impl Harness {
    fn start(&mut self, input: &str) -> (String, u64) {
        let (outcome, actions) = self.engine.start(&request(None, input)).unwrap();
        let arn = outcome.record().arn.clone();
        (arn, invocations(&actions)[0])
    }

    fn token(&mut self, arn: &str, invocation: u64) -> String {
        self.engine.envelope(arn, invocation).unwrap().unwrap().token
    }

    fn checkpoint(&mut self, arn: &str, token: &str, updates: &[OperationUpdate]) -> (CheckpointAnswer, Vec<Action>) {
        self.engine.checkpoint(arn, token, updates, None, &Deployed).unwrap()
    }

    fn event_types(&self, arn: &str) -> Vec<EventType> {
        self.engine.history(arn, None, 1000, false).unwrap().events.iter().map(|e| e.event_type).collect()
    }

    fn status(&self, arn: &str) -> ExecutionStatus {
        self.engine.execution(arn).unwrap().status
    }
}

#[test]
fn the_seed_pattern_runs_step_then_chained_invoke_then_replays_to_the_end() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start(r#"{"values": [1, 2]}"#);
    assert!(arn.starts_with(&format!("{FUNCTION_ARN}:3/durable-execution/")), "{arn}");
    let envelope = h.engine.envelope(&arn, first).unwrap().unwrap();
    assert_eq!(envelope.operations.len(), 1);
    assert_eq!(envelope.operations[0].operation_type, OperationType::Execution);
    assert_eq!(
        envelope.operations[0].execution_details.as_ref().unwrap().input_payload.as_deref(),
        Some(r#"{"values": [1, 2]}"#)
    );

    let mut start = update("s1", OperationType::Step, OperationAction::Start);
    start.sub_type = Some("Step".into());
    let mut succeed = update("s1", OperationType::Step, OperationAction::Succeed);
    succeed.payload = Some("[1, 2]".into());
    let (answer, _) = h.checkpoint(&arn, &envelope.token, &[start, succeed]);
    assert_eq!(answer.operations.len(), 1);
    assert_eq!(answer.operations[0].status, OperationStatus::Succeeded);

    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.payload = Some("[1, 2]".into());
    invoke.chained_invoke_options = Some(ChainedInvokeOptions {
        function_name: Some("arn:aws:lambda:us-east-1:000000000000:function:fn-processor:1".into()),
        tenant_id: None,
    });
    let (answer2, actions) = h.checkpoint(&arn, &answer.token, &[invoke]);
    assert_eq!(answer2.operations[0].status, OperationStatus::Started);
    let target = actions.iter().find_map(|a| match a {
        Action::InvokeTarget { function_name, qualifier, payload, .. } => {
            Some((function_name.clone(), qualifier.clone(), payload.clone()))
        }
        _ => None,
    });
    assert_eq!(target, Some(("fn-processor".into(), "1".into(), Some("[1, 2]".into()))));
    // The old token is spent.
    let stale = h.engine.checkpoint(&arn, &answer.token, &[], None, &Deployed);
    // ... unless it is the very same request again: then the same answer comes back.
    assert!(stale.is_err());

    let actions = h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    assert!(invocations(&actions).is_empty(), "nothing to resume from yet");
    let actions = h.engine.target_ended(&arn, "i1", TargetOutcome::Succeeded(Some("3".into()))).unwrap();
    let second = invocations(&actions)[0];
    assert_eq!(second, 2);
    let envelope = h.engine.envelope(&arn, second).unwrap().unwrap();
    let invoke_op = envelope.operations.iter().find(|o| o.id == "i1").unwrap();
    assert_eq!(invoke_op.chained_invoke_details.as_ref().unwrap().result.as_deref(), Some("3"));
    let actions = h.engine.invocation_ended(&arn, second, &output("SUCCEEDED", Some("{\"ok\": 3}"))).unwrap();
    assert!(actions.contains(&Action::Ended { execution: arn.clone() }));
    let record = h.engine.execution(&arn).unwrap();
    assert_eq!((record.status, record.result.as_deref()), (ExecutionStatus::Succeeded, Some("{\"ok\": 3}")));
    assert_eq!(
        h.event_types(&arn),
        vec![
            EventType::ExecutionStarted,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::ChainedInvokeStarted,
            EventType::InvocationCompleted,
            EventType::ChainedInvokeSucceeded,
            EventType::InvocationCompleted,
            EventType::ExecutionSucceeded,
        ]
    );
    let events = h.engine.history(&arn, None, 100, false).unwrap().events;
    let started = serde_json::to_value(&events[3]).unwrap();
    assert_eq!(started["ChainedInvokeStartedDetails"]["ExecutedVersion"], "1");
    assert_eq!(started["ChainedInvokeStartedDetails"]["DurableExecutionArn"], arn.as_str());
    assert_eq!(started["ChainedInvokeStartedDetails"]["Input"]["Payload"], "[1, 2]");
    let ids: Vec<i64> = events.iter().map(|e| e.event_id).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
}

#[test]
fn a_target_that_answers_while_the_handler_runs_is_applied_when_its_invocation_ends() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.chained_invoke_options =
        Some(ChainedInvokeOptions { function_name: Some("fn-processor".into()), tenant_id: None });
    h.checkpoint(&arn, &token, &[invoke]);
    let actions = h.engine.target_ended(&arn, "i1", TargetOutcome::Succeeded(Some("1".into()))).unwrap();
    assert!(actions.is_empty(), "queued while the handler runs: {actions:?}");
    let actions = h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    assert_eq!(invocations(&actions), vec![2]);
    let types = h.event_types(&arn);
    assert_eq!(types[types.len() - 2..], [EventType::InvocationCompleted, EventType::ChainedInvokeSucceeded]);
}

#[test]
fn a_retried_checkpoint_gets_the_same_answer_and_applies_nothing_twice() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let start = update("s1", OperationType::Step, OperationAction::Start);
    let (a, _) = h.checkpoint(&arn, &token, std::slice::from_ref(&start));
    let (b, _) = h.checkpoint(&arn, &token, std::slice::from_ref(&start));
    assert_eq!(a, b);
    assert_eq!(h.event_types(&arn).iter().filter(|t| **t == EventType::StepStarted).count(), 1);
    let other = h.engine.checkpoint(
        &arn,
        &token,
        &[update("s2", OperationType::Step, OperationAction::Start)],
        None,
        &Deployed,
    );
    assert!(matches!(other, Err(EngineError::InvalidParameter(m)) if m == "Invalid checkpoint token"));
}

#[test]
fn names_make_starts_idempotent_and_another_input_is_refused() {
    let mut h = harness(EngineConfig::default());
    let (first, actions) = h.engine.start(&request(Some("order-42"), "{\"a\": 1}")).unwrap();
    assert!(matches!(first, StartOutcome::Started(_)));
    assert_eq!(invocations(&actions).len(), 1);
    let (again, actions) = h.engine.start(&request(Some("order-42"), "{\"a\": 1}")).unwrap();
    assert!(matches!(&again, StartOutcome::Existing(r) if r.arn == first.record().arn));
    assert!(actions.is_empty());
    let other = h.engine.start(&request(Some("order-42"), "{\"a\": 2}"));
    assert!(matches!(other, Err(EngineError::AlreadyStarted(m)) if m.contains(&first.record().arn)));
    let bad = h.engine.start(&request(Some("has space"), "{}"));
    assert!(matches!(bad, Err(EngineError::InvalidParameter(_))));
    assert!(first.record().arn.contains("/durable-execution/order-42/"));
}

#[test]
fn a_wait_fires_at_its_time_and_resumes_the_handler() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let mut wait = update("w1", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(3600) });
    let (answer, actions) = h.checkpoint(&arn, &token, &[wait]);
    let scheduled = answer.operations[0].wait_details.as_ref().unwrap().scheduled_end_timestamp.unwrap();
    assert!(actions.contains(&Action::ArmTimer { execution: arn.clone(), timer: "op:w1".into(), at_ms: scheduled }));
    assert!(h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap().is_empty());
    h.advance(1000);
    assert!(h.engine.timer_fired(&arn, "op:w1").unwrap().is_empty(), "not due yet");
    h.advance(3_600_000);
    let actions = h.engine.timer_fired(&arn, "op:w1").unwrap();
    assert_eq!(invocations(&actions), vec![2]);
    let events = h.engine.history(&arn, None, 100, false).unwrap().events;
    let started = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(started["WaitStartedDetails"]["Duration"], 3600);
    assert_eq!(events.last().unwrap().event_type, EventType::WaitSucceeded);
}

#[test]
fn a_step_retry_waits_its_delay_then_runs_again_with_the_attempt_counted() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let start = update("s1", OperationType::Step, OperationAction::Start);
    let mut retry = update("s1", OperationType::Step, OperationAction::Retry);
    retry.error = Some(ErrorObject::new("Boom", "first attempt failed"));
    retry.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(2) });
    let (answer, _) = h.checkpoint(&arn, &token, &[start.clone(), retry]);
    let step = &answer.operations[0];
    assert_eq!(step.status, OperationStatus::Pending);
    assert_eq!(step.step_details.as_ref().unwrap().attempt, 1);
    h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    h.advance(2000);
    let second = invocations(&h.engine.timer_fired(&arn, "op:s1").unwrap())[0];
    let envelope = h.engine.envelope(&arn, second).unwrap().unwrap();
    assert_eq!(envelope.operations[1].status, OperationStatus::Ready);
    let mut succeed = update("s1", OperationType::Step, OperationAction::Succeed);
    succeed.payload = Some("\"ok\"".into());
    h.checkpoint(&arn, &envelope.token, &[start, succeed]);
    let events: Vec<serde_json::Value> = h
        .engine
        .history(&arn, None, 100, false)
        .unwrap()
        .events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(events[2]["EventType"], "StepFailed");
    assert_eq!(
        events[2]["StepFailedDetails"]["RetryDetails"],
        serde_json::json!({"CurrentAttempt": 1, "NextAttemptDelaySeconds": 2})
    );
    assert_eq!(events[2]["StepFailedDetails"]["Error"]["Payload"]["ErrorType"], "Boom");
    assert_eq!(events[4]["EventType"], "StepStarted");
    assert_eq!(events[5]["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"], 2);
    assert_eq!(events[5]["StepSucceededDetails"]["Result"]["Payload"], "\"ok\"");
}

#[test]
fn callbacks_succeed_fail_time_out_and_heartbeats_push_their_deadline() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let mut cb = update("c1", OperationType::Callback, OperationAction::Start);
    cb.callback_options = Some(CallbackOptions { timeout_seconds: Some(300), heartbeat_timeout_seconds: Some(10) });
    let mut cb2 = update("c2", OperationType::Callback, OperationAction::Start);
    cb2.callback_options = Some(CallbackOptions { timeout_seconds: Some(5), heartbeat_timeout_seconds: None });
    let (answer, _) = h.checkpoint(&arn, &token, &[cb, cb2]);
    let id1 = answer.operations[0].callback_details.as_ref().unwrap().callback_id.clone().unwrap();
    h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    // A heartbeat at 8 s moves the heartbeat deadline to 18 s: the alarm set for 10 s does nothing.
    h.advance(8000);
    h.engine.callback(&id1, &CallbackCommand::Heartbeat).unwrap();
    h.advance(2000);
    assert!(h.engine.timer_fired(&arn, "hb:c1").unwrap().is_empty());
    // c2 times out at 5 s (its timer fired late here): CallbackTimedOut, and the handler runs again.
    let actions = h.engine.timer_fired(&arn, "cb:c2").unwrap();
    assert_eq!(invocations(&actions), vec![2]);
    let e = h.engine.history(&arn, None, 100, false).unwrap().events;
    let timed_out = serde_json::to_value(e.last().unwrap()).unwrap();
    assert_eq!(timed_out["CallbackTimedOutDetails"]["Error"]["Payload"]["ErrorType"], "Callback.Timeout");
    h.token(&arn, 2);
    h.engine.invocation_ended(&arn, 2, &output("PENDING", None)).unwrap();
    let actions = h.engine.callback(&id1, &CallbackCommand::Succeed(Some("\"yes\"".into()))).unwrap();
    assert_eq!(invocations(&actions), vec![3]);
    let again = h.engine.callback(&id1, &CallbackCommand::Fail(ErrorObject::new("X", "late")));
    assert!(matches!(again, Err(EngineError::InvalidParameter(_))));
    assert!(matches!(h.engine.callback("nope", &CallbackCommand::Heartbeat), Err(EngineError::NotFound(_))));
    let last = serde_json::to_value(h.engine.history(&arn, None, 100, false).unwrap().events.last().unwrap()).unwrap();
    assert_eq!(last["CallbackSucceededDetails"]["Result"]["Payload"], "\"yes\"");
}

#[test]
fn a_stop_cancels_open_operations_and_the_history_says_so() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let mut wait = update("w1", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(60) });
    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.chained_invoke_options =
        Some(ChainedInvokeOptions { function_name: Some("fn-processor".into()), tenant_id: None });
    h.checkpoint(&arn, &token, &[wait, invoke]);
    h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    let (_, actions) = h.engine.stop(&arn, Some(&ErrorObject::new("Operator", "enough"))).unwrap();
    assert!(actions.contains(&Action::Ended { execution: arn.clone() }));
    assert_eq!(h.status(&arn), ExecutionStatus::Stopped);
    let types = h.event_types(&arn);
    assert_eq!(
        types[types.len() - 3..],
        [EventType::WaitCancelled, EventType::ChainedInvokeStopped, EventType::ExecutionStopped]
    );
    // A target answering after the stop changes nothing; a second stop is refused.
    assert!(h.engine.target_ended(&arn, "i1", TargetOutcome::Succeeded(None)).unwrap().is_empty());
    assert!(matches!(h.engine.stop(&arn, None), Err(EngineError::InvalidParameter(_))));
    assert!(matches!(h.engine.stop("arn:nope", None), Err(EngineError::NotFound(_))));
}

#[test]
fn the_execution_timeout_ends_a_running_execution_timed_out() {
    let mut h = harness(EngineConfig::default());
    let (arn, _) = h.start("{}");
    h.advance(600_000);
    let actions = h.engine.timer_fired(&arn, "timeout").unwrap();
    assert!(actions.contains(&Action::Ended { execution: arn.clone() }));
    assert_eq!(h.status(&arn), ExecutionStatus::TimedOut);
    assert_eq!(h.event_types(&arn).last(), Some(&EventType::ExecutionTimedOut));
    // The invocation that was running reports afterwards: ignored.
    assert!(h.engine.invocation_ended(&arn, 1, &output("SUCCEEDED", Some("1"))).unwrap().is_empty());
    assert_eq!(h.status(&arn), ExecutionStatus::TimedOut);
}

#[test]
fn failed_invocations_are_retried_with_backoff_then_fail_the_execution() {
    let mut h = harness(EngineConfig { max_invocation_failures: 3, ..EngineConfig::default() });
    let (arn, first) = h.start("{}");
    let crash = InvocationResult::Failed(ErrorObject::new("Runtime.ExitError", "exit status 101"));
    let actions = h.engine.invocation_ended(&arn, first, &crash).unwrap();
    let at = actions.iter().find_map(|a| match a {
        Action::ArmTimer { timer, at_ms, .. } if timer == "invoke" => Some(*at_ms),
        _ => None,
    });
    assert_eq!(at, Some(h.clock.now_ms() + 1000));
    h.advance(1000);
    assert_eq!(invocations(&h.engine.timer_fired(&arn, "invoke").unwrap()), vec![2]);
    h.engine.invocation_ended(&arn, 2, &crash).unwrap();
    h.advance(2000);
    assert_eq!(invocations(&h.engine.timer_fired(&arn, "invoke").unwrap()), vec![3]);
    let actions = h.engine.invocation_ended(&arn, 3, &crash).unwrap();
    assert!(actions.contains(&Action::Ended { execution: arn.clone() }));
    let record = h.engine.execution(&arn).unwrap();
    assert_eq!(record.status, ExecutionStatus::Failed);
    assert_eq!(record.error.unwrap().error_type.as_deref(), Some("Runtime.ExitError"));
    let events = h.engine.history(&arn, None, 100, false).unwrap().events;
    let completed = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(completed["InvocationCompletedDetails"]["Error"]["Payload"]["ErrorType"], "Runtime.ExitError");
}

#[test]
fn recovery_reruns_cut_invocations_reissues_unanswered_targets_and_rearms_timers() {
    let mut h = harness(EngineConfig::default());
    let (a, first_a) = h.start("{}");
    let (b, first_b) = h.start("{}");
    let token_a = h.token(&a, first_a);
    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.payload = Some("7".into());
    invoke.chained_invoke_options =
        Some(ChainedInvokeOptions { function_name: Some("fn-processor".into()), tenant_id: Some("t".into()) });
    h.checkpoint(&a, &token_a, &[invoke]);
    h.engine.invocation_ended(&a, first_a, &output("PENDING", None)).unwrap();
    // b's handler was running when the service died.
    let old_token = h.token(&b, first_b);
    let actions = h.engine.recover().unwrap();
    assert!(actions.contains(&Action::InvokeTarget {
        execution: a.clone(),
        operation: "i1".into(),
        function_name: "fn-processor".into(),
        qualifier: "1".into(),
        payload: Some("7".into()),
        tenant_id: Some("t".into()),
    }));
    assert!(actions.contains(&Action::InvokeHandler { execution: b.clone(), invocation: first_b + 1 }));
    assert!(
        actions
            .iter()
            .any(|x| matches!(x, Action::ArmTimer { execution, timer, .. } if *execution == a && timer == "timeout"))
    );
    assert!(h.engine.checkpoint(&b, &old_token, &[], None, &Deployed).is_err(), "the cut invocation's token is spent");
}

#[test]
fn a_durable_target_runs_as_a_child_execution_and_reports_to_its_parent() {
    let mut h = harness(EngineConfig::default());
    let (parent, first) = h.start("{}");
    let token = h.token(&parent, first);
    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.payload = Some("{\"n\": 1}".into());
    invoke.chained_invoke_options =
        Some(ChainedInvokeOptions { function_name: Some("fn-child".into()), tenant_id: None });
    let (_, actions) = h.checkpoint(&parent, &token, &[invoke]);
    let child = actions
        .iter()
        .find_map(|a| match a {
            Action::InvokeHandler { execution, .. } if *execution != parent => Some(execution.clone()),
            _ => None,
        })
        .unwrap();
    assert!(child.contains(":function:fn-child:$LATEST/durable-execution/"), "{child}");
    h.engine.invocation_ended(&parent, first, &output("PENDING", None)).unwrap();
    let actions = h.engine.invocation_ended(&child, 1, &output("SUCCEEDED", Some("\"done\""))).unwrap();
    assert!(actions.contains(&Action::InvokeHandler { execution: parent.clone(), invocation: 2 }));
    let events = h.engine.history(&parent, None, 100, false).unwrap().events;
    let started = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(started["ChainedInvokeStartedDetails"]["DurableExecutionArn"], child.as_str());
    let done = serde_json::to_value(events.last().unwrap()).unwrap();
    assert_eq!(done["ChainedInvokeSucceededDetails"]["Result"]["Payload"], "\"done\"");
}

#[test]
fn invalid_transitions_are_refused_and_change_nothing() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let mut succeed = update("s1", OperationType::Step, OperationAction::Succeed);
    succeed.payload = Some("1".into());
    let (answer, _) = h.checkpoint(&arn, &token, &[succeed.clone()]);
    let cases = [
        vec![succeed],
        vec![update("w1", OperationType::Wait, OperationAction::Succeed)],
        vec![update("c1", OperationType::Callback, OperationAction::Retry)],
        vec![update("s1", OperationType::Wait, OperationAction::Start)],
        vec![
            update("x", OperationType::Execution, OperationAction::Succeed),
            update("y", OperationType::Step, OperationAction::Start),
        ],
        {
            let mut orphan = update("z", OperationType::Step, OperationAction::Start);
            orphan.parent_id = Some("missing".into());
            vec![orphan]
        },
    ];
    for updates in cases {
        let result = h.engine.checkpoint(&arn, &answer.token, &updates, None, &Deployed);
        assert!(matches!(result, Err(EngineError::InvalidParameter(_))), "{updates:?} was accepted");
    }
    assert_eq!(h.event_types(&arn).len(), 2, "nothing recorded by refused checkpoints");
}

#[test]
fn history_and_lists_page_forwards_and_backwards() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let mut token = h.token(&arn, first);
    for i in 0..5 {
        let (answer, _) =
            h.checkpoint(&arn, &token, &[update(&format!("s{i}"), OperationType::Step, OperationAction::Start)]);
        token = answer.token;
    }
    let page1 = h.engine.history(&arn, None, 4, false).unwrap();
    assert_eq!(page1.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    let page2 = h.engine.history(&arn, page1.next_marker.as_deref(), 4, false).unwrap();
    assert_eq!(page2.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), vec![5, 6]);
    assert_eq!(page2.next_marker, None);
    let back = h.engine.history(&arn, None, 4, true).unwrap();
    assert_eq!(back.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), vec![6, 5, 4, 3]);
    let back2 = h.engine.history(&arn, back.next_marker.as_deref(), 4, true).unwrap();
    assert_eq!(back2.events.iter().map(|e| e.event_id).collect::<Vec<_>>(), vec![2, 1]);

    for _ in 0..4 {
        h.start("{}");
    }
    let filter = ListFilter { function_name: "fn-orchestrator".into(), limit: 3, ..ListFilter::default() };
    let (page, marker) = h.engine.list(&filter).unwrap();
    assert_eq!(page.len(), 3);
    let (rest, none) =
        h.engine.list(&ListFilter { after_key: marker.and_then(|m| m.parse().ok()), ..filter.clone() }).unwrap();
    assert_eq!((rest.len(), none), (2, None));
    let none_running = ListFilter { statuses: vec![ExecutionStatus::Succeeded], ..filter };
    assert!(h.engine.list(&none_running).unwrap().0.is_empty());
}

#[test]
fn retention_purges_ended_executions_only_after_their_period() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let (running, _) = h.start("{}");
    h.engine.invocation_ended(&arn, first, &output("SUCCEEDED", Some("1"))).unwrap();
    h.advance(7 * 86_400_000 - 1);
    assert_eq!(h.engine.purge().unwrap(), 0);
    h.advance(1);
    assert_eq!(h.engine.purge().unwrap(), 1);
    assert!(matches!(h.engine.execution(&arn), Err(EngineError::NotFound(_))));
    assert_eq!(h.status(&running), ExecutionStatus::Running);
}

#[test]
fn a_state_too_large_for_one_envelope_is_paged_through_get_state() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let mut token = h.token(&arn, first);
    // Six steps of one MiB each: more than an invocation payload may carry.
    for i in 0..6 {
        let mut succeed = update(&format!("s{i}"), OperationType::Step, OperationAction::Succeed);
        succeed.payload = Some(format!("\"{}\"", "x".repeat(1024 * 1024)));
        token = h.checkpoint(&arn, &token, &[succeed]).0.token;
    }
    let mut wait = update("w", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(1) });
    h.checkpoint(&arn, &token, &[wait]);
    h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    h.advance(1000);
    let second = invocations(&h.engine.timer_fired(&arn, "op:w").unwrap())[0];
    let envelope = h.engine.envelope(&arn, second).unwrap().unwrap();
    let marker = envelope.next_marker.clone().expect("a marker for the operations left out");
    assert!(envelope.operations.len() < 8, "{} operations in one envelope", envelope.operations.len());
    let mut seen: Vec<String> = envelope.operations.iter().map(|o| o.id.clone()).collect();
    let mut next = Some(marker);
    while let Some(marker) = next {
        let (page, more) = h.engine.state(&arn, &envelope.token, Some(&marker), 2).unwrap();
        seen.extend(page.iter().map(|o| o.id.clone()));
        next = more;
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert!(matches!(h.engine.state(&arn, "stale", None, 10), Err(EngineError::InvalidParameter(_))));
}

#[test]
fn a_stored_decision_loads_back_as_the_state_the_next_decision_sees() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start("{}");
    let token = h.token(&arn, first);
    let mut wait = update("w1", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(60) });
    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.chained_invoke_options =
        Some(ChainedInvokeOptions { function_name: Some("fn-processor".into()), tenant_id: None });
    h.checkpoint(&arn, &token, &[wait, invoke]);
    let now = h.clock.now_ms();
    h.engine.target_ended(&arn, "i1", TargetOutcome::Succeeded(None)).unwrap();
    let record = h.engine.execution(&arn).unwrap();
    let state = store::load(&h.engine.conn, record.clone(), &state::OperationsNeeded::All).unwrap();
    let ops: Vec<(OperationType, u64)> = state.operations.iter().map(|s| (s.op.operation_type, s.seq)).collect();
    assert_eq!(ops, [(OperationType::Execution, 1), (OperationType::Wait, 2), (OperationType::ChainedInvoke, 3)]);
    assert!(state.all_operations);
    assert_eq!(
        state.timers,
        [("op:w1".to_owned(), now + 60_000), ("timeout".to_owned(), now + 600_000)].into_iter().collect()
    );
    // The target answered while the handler ran: its answer waits in the queue.
    assert_eq!(
        state.inbox,
        [state::Completion::Target { operation: "i1".into(), outcome: state::TargetEnd::Succeeded(None) }]
    );
    let some = state::OperationsNeeded::Some { ids: vec!["i1".into(), "nope".into()], changed_after: None };
    let partial = store::load(&h.engine.conn, record.clone(), &some).unwrap();
    assert_eq!(partial.operations.iter().map(|s| s.op.id.as_str()).collect::<Vec<_>>(), ["i1"]);
    assert!(!partial.all_operations);
    let since = state::OperationsNeeded::Some { ids: vec![], changed_after: Some(1) };
    let changed = store::load(&h.engine.conn, record, &since).unwrap();
    assert_eq!(changed.operations.iter().map(|s| s.op.id.as_str()).collect::<Vec<_>>(), ["w1", "i1"]);
}

/// Checkpoints a chained invoke of the durable `fn-child` in `execution`'s current invocation; returns the child.
fn invoke_child(h: &mut Harness, execution: &str, invocation: u64) -> String {
    let token = h.token(execution, invocation);
    let mut invoke = update("i1", OperationType::ChainedInvoke, OperationAction::Start);
    invoke.chained_invoke_options =
        Some(ChainedInvokeOptions { function_name: Some("fn-child".into()), tenant_id: None });
    let (_, actions) = h.checkpoint(execution, &token, &[invoke]);
    h.engine.invocation_ended(execution, invocation, &output("PENDING", None)).unwrap();
    actions
        .iter()
        .find_map(|a| match a {
            Action::InvokeHandler { execution: child, .. } if child != execution => Some(child.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_stopped_parent_stops_its_child_and_grandchild_which_report_nothing_back() {
    let mut h = harness(EngineConfig::default());
    let (parent, first) = h.start("{}");
    let child = invoke_child(&mut h, &parent, first);
    let grandchild = invoke_child(&mut h, &child, 1);
    let (_, actions) = h.engine.stop(&parent, None).unwrap();
    for execution in [&parent, &child, &grandchild] {
        assert!(actions.contains(&Action::Ended { execution: execution.clone() }), "{execution}: {actions:?}");
        assert_eq!(h.status(execution), ExecutionStatus::Stopped, "{execution}");
        assert_eq!(h.event_types(execution).last(), Some(&EventType::ExecutionStopped), "{execution}");
    }
    assert_eq!(h.engine.execution(&child).unwrap().run.parent, None);
    let types = h.event_types(&parent);
    assert_eq!(types[types.len() - 2..], [EventType::ChainedInvokeStopped, EventType::ExecutionStopped]);
    let types = h.event_types(&child);
    assert_eq!(types[types.len() - 2..], [EventType::ChainedInvokeStopped, EventType::ExecutionStopped]);
}

#[test]
fn the_next_timer_is_the_first_armed_one_of_any_execution() {
    let mut h = harness(EngineConfig::default());
    assert_eq!(h.engine.next_timer().unwrap(), None);
    let start = h.clock.now_ms();
    let (a, first) = h.start("{}");
    let token = h.token(&a, first);
    let mut wait = update("w1", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(30) });
    h.checkpoint(&a, &token, &[wait]);
    h.advance(1000);
    let (b, _) = h.start("{}");
    assert_eq!(h.engine.next_timer().unwrap(), Some((a.clone(), "op:w1".into(), start + 30_000)));
    h.advance(30_000);
    h.engine.invocation_ended(&a, first, &output("PENDING", None)).unwrap();
    h.engine.timer_fired(&a, "op:w1").unwrap();
    assert_eq!(h.engine.next_timer().unwrap(), Some((a, "timeout".into(), start + 600_000)));
    h.engine.stop(&b, None).unwrap();
}

#[test]
fn the_operations_rebuilt_from_a_history_are_the_stored_ones() {
    let mut h = harness(EngineConfig::default());
    let (arn, first) = h.start(r#"{"order": 1}"#);
    let token = h.token(&arn, first);
    // A step that fails once and is retried two seconds later, inside a context.
    let mut context = update("ctx", OperationType::Context, OperationAction::Start);
    context.sub_type = Some("RunInChildContext".into());
    let mut start = update("s1", OperationType::Step, OperationAction::Start);
    start.parent_id = Some("ctx".into());
    let mut retry = update("s1", OperationType::Step, OperationAction::Retry);
    retry.parent_id = Some("ctx".into());
    retry.error = Some(ErrorObject::new("Busy", "try later"));
    retry.step_options = Some(StepOptions { next_attempt_delay_seconds: Some(2) });
    h.checkpoint(&arn, &token, &[context, start, retry]);
    h.engine.invocation_ended(&arn, first, &output("PENDING", None)).unwrap();
    let pending = history::operations(&h.engine.history(&arn, None, 1000, false).unwrap().events);
    assert_eq!(pending, h.engine.operations(&arn).unwrap(), "with the step waiting for its retry");

    h.advance(2_000);
    let (_, timer, _) = h.engine.next_timer().unwrap().unwrap();
    let retried = invocations(&h.engine.timer_fired(&arn, &timer).unwrap())[0];
    let mut succeed = update("s1", OperationType::Step, OperationAction::Succeed);
    succeed.parent_id = Some("ctx".into());
    succeed.payload = Some("42".into());
    let mut done = update("ctx", OperationType::Context, OperationAction::Succeed);
    done.payload = Some("42".into());
    let mut wait = update("w1", OperationType::Wait, OperationAction::Start);
    wait.wait_options = Some(WaitOptions { wait_seconds: Some(3600) });
    let mut callback = update("c1", OperationType::Callback, OperationAction::Start);
    callback.callback_options = Some(CallbackOptions { timeout_seconds: Some(600), heartbeat_timeout_seconds: None });
    let token = h.token(&arn, retried);
    h.checkpoint(&arn, &token, &[succeed, done, wait, callback]);
    h.engine.invocation_ended(&arn, retried, &output("PENDING", None)).unwrap();
    let callback_id = h.engine.operations(&arn).unwrap().iter().find_map(|op| op.callback_details.clone()?.callback_id);
    h.engine.callback(&callback_id.unwrap(), &CallbackCommand::Succeed(Some(r#"{"approved":true}"#.into()))).unwrap();
    h.advance(3_600_000);
    let (_, timer, _) = h.engine.next_timer().unwrap().unwrap();
    h.engine.timer_fired(&arn, &timer).unwrap();

    let stored = h.engine.operations(&arn).unwrap();
    let rebuilt = history::operations(&h.engine.history(&arn, None, 1000, false).unwrap().events);
    // Whether a context replays its children is the handler's choice, not recorded in the history.
    let without_replay_flag = |ops: Vec<Operation>| {
        ops.into_iter()
            .map(|mut op| {
                if let Some(context) = op.context_details.as_mut() {
                    context.replay_children = None;
                }
                op
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_replay_flag(rebuilt), without_replay_flag(stored));
}
