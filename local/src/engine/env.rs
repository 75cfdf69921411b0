//! Where the engine's time and ids come from: an [`Environment`] of a [`Clock`] and an [`IdSource`], injected
//! into the engine and shared with the service's timer task, so one source of time decides what is due and when
//! it fires. The wall clock and random ids run the service; a [`ManualClock`] and [`SequentialIds`] make a run
//! repeatable: moving the clock by hand fires exactly the timers it passes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// A future the timer task awaits.
pub(super) type Alarm = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where time comes from.
pub trait Clock: Send + Sync {
    /// Now, in epoch milliseconds.
    fn now_ms(&self) -> i64;

    /// Resolves once this clock reads `at_ms` or later (the timer task sleeps on it).
    fn alarm(&self, at_ms: i64) -> Alarm;

    /// This clock as a hand-moved one, when it is: what `deployer time` and the test library move.
    fn manual(&self) -> Option<&ManualClock> {
        None
    }
}

/// Where ids come from: execution names and ids, checkpoint tokens, request ids, callback ids.
pub trait IdSource: Send + Sync {
    /// A new id, never handed out before by this source.
    fn next_id(&self) -> uuid::Uuid;
}

/// The engine's time and ids.
#[derive(Clone)]
pub struct Environment {
    /// The one clock: decisions read it once per command, the timer task waits on it.
    pub clock: Arc<dyn Clock>,
    /// The ids decisions draw.
    pub ids: Arc<dyn IdSource>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment").finish_non_exhaustive()
    }
}

impl Environment {
    /// The service's environment: the wall clock and random ids.
    pub fn system() -> Self {
        Self { clock: Arc::new(SystemClock), ids: Arc::new(RandomIds) }
    }

    /// A repeatable environment: a clock moved by hand, starting at `start_ms`, and ids counted from 1. Returns
    /// the clock too, to move it.
    pub fn manual(start_ms: i64) -> (Self, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(start_ms));
        (Self { clock: clock.clone(), ids: Arc::new(SequentialIds::default()) }, clock)
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
    }

    fn alarm(&self, at_ms: i64) -> Alarm {
        let wait = Duration::from_millis(u64::try_from(at_ms.saturating_sub(self.now_ms())).unwrap_or(0));
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told: time stands still between moves, and each move wakes the alarms it
/// passes, so the timer task fires exactly the timers now due.
#[derive(Debug)]
pub struct ManualClock {
    now: watch::Sender<i64>,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        Self { now: watch::Sender::new(start_ms) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.now.send_modify(|now| *now = now.saturating_add(by));
    }

    /// Moves the clock forward to `at_ms`; a time already passed leaves it where it is (time never runs back).
    pub fn advance_to(&self, at_ms: i64) {
        self.now.send_if_modified(|now| {
            let later = at_ms > *now;
            if later {
                *now = at_ms;
            }
            later
        });
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        *self.now.borrow()
    }

    fn alarm(&self, at_ms: i64) -> Alarm {
        let mut now = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock, which the waiter's owner holds: an error cannot happen, and
            // would only mean no move will ever come.
            if now.wait_for(|now| *now >= at_ms).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }

    fn manual(&self) -> Option<&ManualClock> {
        Some(self)
    }
}

/// Random ids (UUID v4).
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_id(&self) -> uuid::Uuid {
        uuid::Uuid::new_v4()
    }
}

/// Ids counted from 1 (`00000000-0000-0000-0000-000000000001`, ...): the same run draws the same ids.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn next_id(&self) -> uuid::Uuid {
        uuid::Uuid::from_u128(u128::from(self.0.fetch_add(1, Ordering::Relaxed) + 1))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn a_manual_alarm_rings_when_the_clock_passes_its_time_and_not_before() {
        let clock = ManualClock::new(1_000);
        let mut alarm = clock.alarm(5_000);
        let poll = |alarm: &mut Alarm| {
            let waker = std::task::Waker::noop();
            alarm.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_ready()
        };
        assert!(!poll(&mut alarm));
        clock.advance(Duration::from_millis(3_999));
        assert!(!poll(&mut alarm), "rang at {}", clock.now_ms());
        clock.advance_to(2_000);
        assert_eq!(clock.now_ms(), 4_999, "time ran back");
        clock.advance(Duration::from_millis(1));
        assert!(poll(&mut alarm));
        assert!(poll(&mut clock.alarm(5_000)), "an alarm for a passed time rings at once");
    }

    #[test]
    fn sequential_ids_count_from_one() {
        let ids = SequentialIds::default();
        assert_eq!(ids.next_id().to_string(), "00000000-0000-0000-0000-000000000001");
        assert_eq!(ids.next_id().simple().to_string(), "00000000000000000000000000000002");
    }
}
