//! The timer task: keeps every armed alarm in time order and tells the engine when one is due, by the engine's own
//! clock ([`crate::engine::Environment`]): on the wall clock it sleeps until the first alarm; on a hand-moved clock
//! it fires, at each move, exactly the alarms the clock passed. The engine keeps the timers themselves in its store
//! (an alarm for a timer re-armed or disarmed since is ignored there), so after a restart
//! [`crate::engine::Engine::recover`] arms them all again.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::engine::Clock;

/// `(when, execution ARN, timer name)`.
pub(super) type Alarm = (i64, String, String);

/// Runs until the alarm senders are gone or `fire` says the service is: `fire(execution, timer)` is called for
/// each alarm once `clock` reads its time, earliest first.
pub(super) async fn run(
    clock: Arc<dyn Clock>,
    mut alarms: mpsc::UnboundedReceiver<Alarm>,
    mut fire: impl FnMut(String, String) -> bool,
) {
    let mut heap: BinaryHeap<Reverse<Alarm>> = BinaryHeap::new();
    loop {
        let ring = match heap.peek() {
            Some(Reverse((at, _, _))) => clock.alarm(*at),
            None => Box::pin(std::future::pending()),
        };
        tokio::select! {
            alarm = alarms.recv() => match alarm {
                Some(alarm) => heap.push(Reverse(alarm)),
                None => return,
            },
            () = ring => {
                let now = clock.now_ms();
                while heap.peek().is_some_and(|Reverse((at, _, _))| *at <= now) {
                    let Some(Reverse((_, execution, timer))) = heap.pop() else { break };
                    if !fire(execution, timer) {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::engine::model::{
        ErrorObject, HandlerOutput, OperationAction, OperationType, OperationUpdate, WaitOptions,
    };
    use crate::engine::{
        Action, Engine, EngineConfig, Environment, Functions, InvocationResult, InvokeTarget, ManualClock, StartRequest,
    };

    type Fired = Arc<Mutex<Vec<(String, String)>>>;

    /// A timer task on `clock` recording what it fires.
    fn task(clock: Arc<ManualClock>) -> (mpsc::UnboundedSender<Alarm>, Fired) {
        let (send, alarms) = mpsc::unbounded_channel();
        let fired: Fired = Arc::default();
        let log = fired.clone();
        tokio::spawn(run(clock, alarms, move |execution, timer| {
            log.lock().unwrap().push((execution, timer));
            true
        }));
        (send, fired)
    }

    /// Lets the other tasks run a while (the runtime of a test has one thread: they run while this one yields).
    async fn yield_a_while() {
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
    }

    /// Lets the timer task run until it has fired `count` alarms, then a while longer to catch any extra one.
    async fn settle(fired: &Fired, count: usize) -> Vec<(String, String)> {
        for _ in 0..1000 {
            if fired.lock().unwrap().len() >= count {
                break;
            }
            tokio::task::yield_now().await;
        }
        yield_a_while().await;
        fired.lock().unwrap().clone()
    }

    fn alarm(at: i64, timer: &str) -> Alarm {
        (at, "exec".to_owned(), timer.to_owned())
    }

    fn names(fired: &[(String, String)]) -> Vec<&str> {
        fired.iter().map(|(_, t)| t.as_str()).collect()
    }

    #[tokio::test]
    async fn moving_a_manual_clock_fires_exactly_the_alarms_it_passes_in_time_order() {
        let clock = Arc::new(ManualClock::new(0));
        let (send, fired) = task(clock.clone());
        for (at, name) in [(30, "c"), (10, "a"), (20, "b")] {
            send.send(alarm(at, name)).unwrap();
        }
        assert!(settle(&fired, 1).await.is_empty(), "fired before the clock moved");
        clock.advance(Duration::from_millis(25));
        assert_eq!(names(&settle(&fired, 2).await), ["a", "b"]);
        clock.advance_to(29);
        assert_eq!(names(&settle(&fired, 3).await), ["a", "b"], "fired before its time");
        clock.advance_to(30);
        assert_eq!(names(&settle(&fired, 3).await), ["a", "b", "c"]);
        // An alarm for a time already passed fires without the clock moving.
        send.send(alarm(5, "late")).unwrap();
        assert_eq!(names(&settle(&fired, 4).await), ["a", "b", "c", "late"]);
    }

    struct NoFunctions;

    impl Functions for NoFunctions {
        fn resolve(&self, identifier: &str) -> Result<InvokeTarget, ErrorObject> {
            Err(ErrorObject::new("ResourceNotFoundException", format!("Function not found: {identifier}")))
        }
    }

    /// The engine and the timer task on one hand-moved clock: a one-hour wait resumes the handler when the clock
    /// has moved an hour, not a millisecond before.
    #[tokio::test]
    async fn the_engine_and_the_timer_task_share_one_clock() {
        let (env, clock) = Environment::manual(1_764_000_000_000);
        let engine = Arc::new(Mutex::new(Engine::in_memory(env, EngineConfig::default()).unwrap()));
        let (send, alarms) = mpsc::unbounded_channel();
        let resumed: Arc<Mutex<Vec<Action>>> = Arc::default();
        let (shared, log) = (engine.clone(), resumed.clone());
        let task_clock = engine.lock().unwrap().environment().clock.clone();
        tokio::spawn(run(task_clock, alarms, move |execution, timer| {
            let actions = shared.lock().unwrap().timer_fired(&execution, &timer).unwrap();
            log.lock().unwrap().extend(actions);
            true
        }));
        let arm = |actions: Vec<Action>| {
            for action in actions {
                if let Action::ArmTimer { execution, timer, at_ms } = action {
                    send.send((at_ms, execution, timer)).unwrap();
                }
            }
        };
        let request = StartRequest {
            function_name: "fn".into(),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:fn".into(),
            qualifier: "$LATEST".into(),
            name: None,
            input: "{}".into(),
            timeout_s: 86_400,
            retention_days: 1,
        };
        let (arn, token) = {
            let mut engine = engine.lock().unwrap();
            let (outcome, actions) = engine.start(&request).unwrap();
            arm(actions);
            let arn = outcome.record().arn.clone();
            (arn.clone(), engine.envelope(&arn, 1).unwrap().unwrap().token)
        };
        let wait = OperationUpdate {
            id: "w1".into(),
            parent_id: None,
            name: None,
            operation_type: OperationType::Wait,
            sub_type: None,
            action: OperationAction::Start,
            payload: None,
            error: None,
            context_options: None,
            step_options: None,
            wait_options: Some(WaitOptions { wait_seconds: Some(3600) }),
            callback_options: None,
            chained_invoke_options: None,
        };
        {
            let mut engine = engine.lock().unwrap();
            arm(engine.checkpoint(&arn, &token, &[wait], None, &NoFunctions).unwrap().1);
            let pending = HandlerOutput { status: "PENDING".into(), result: None, error: None };
            arm(engine.invocation_ended(&arn, 1, &InvocationResult::Output(pending)).unwrap());
        }
        let handler_runs = |resumed: &Arc<Mutex<Vec<Action>>>| {
            resumed.lock().unwrap().iter().filter(|a| matches!(a, Action::InvokeHandler { .. })).count()
        };
        clock.advance(Duration::from_millis(3_599_999));
        yield_a_while().await;
        assert_eq!(handler_runs(&resumed), 0, "resumed before the hour was up");
        clock.advance(Duration::from_millis(1));
        for _ in 0..1000 {
            if handler_runs(&resumed) > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(*resumed.lock().unwrap(), [Action::InvokeHandler { execution: arn.clone(), invocation: 2 }]);
        let next = engine.lock().unwrap().next_timer().unwrap();
        assert_eq!(next, Some((arn, "timeout".to_owned(), 1_764_000_000_000 + 86_400_000)));
    }
}
