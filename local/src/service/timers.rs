//! The timer task: keeps every armed alarm in time order and tells the engine when one is due. The engine keeps
//! the timers themselves in its store (an alarm for a timer re-armed or disarmed since is ignored there), so after
//! a restart [`crate::engine::Engine::recover`] arms them all again.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Weak;
use std::time::Duration;

use tokio::sync::mpsc;

use super::Service;
use crate::engine::{Clock as _, SystemClock};

/// `(when, execution ARN, timer name)`.
pub(super) type Alarm = (i64, String, String);

pub(super) async fn run(service: Weak<Service>, mut alarms: mpsc::UnboundedReceiver<Alarm>) {
    let mut heap: BinaryHeap<Reverse<Alarm>> = BinaryHeap::new();
    loop {
        let next = heap.peek().map(|Reverse((at, _, _))| *at);
        let wait = next.map(|at| Duration::from_millis(u64::try_from(at - SystemClock.now_ms()).unwrap_or(0)));
        tokio::select! {
            alarm = alarms.recv() => match alarm {
                Some(alarm) => heap.push(Reverse(alarm)),
                None => return,
            },
            () = tokio::time::sleep(wait.unwrap_or(Duration::from_hours(1))), if next.is_some() => {
                let now = SystemClock.now_ms();
                let Some(service) = service.upgrade() else { return };
                while heap.peek().is_some_and(|Reverse((at, _, _))| *at <= now) {
                    let Some(Reverse((_, execution, timer))) = heap.pop() else { break };
                    let fired = service.engine().timer_fired(&execution, &timer);
                    match fired {
                        Ok(actions) => service.execute(actions),
                        Err(e) => tracing::warn!(%execution, %timer, error = %e, "a timer could not be applied"),
                    }
                }
            }
        }
    }
}
