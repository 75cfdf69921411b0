//! Moving the service's manual clock (`up --local --clock manual`): forward by a duration, or to the next armed
//! timer; the move answers once the timers it made due were applied, so what a user or a test reads next (the
//! history, the execution's status) already shows them.

use std::time::Duration;

use super::Service;
use crate::engine::EngineError;
use crate::protocol::{ClockMove, ClockReading};

/// How long a move waits for the timer task to apply the timers it made due.
const APPLY_WAIT: Duration = Duration::from_secs(10);

impl Service {
    /// Moves the manual clock as `how` says. Refused when the service runs on the wall clock.
    pub async fn move_clock(&self, how: ClockMove) -> Result<ClockReading, EngineError> {
        let (before, fired) = {
            let engine = self.engine();
            let clock = engine.environment().clock.clone();
            let Some(manual) = clock.manual() else {
                return Err(EngineError::InvalidParameter(
                    "the local target runs on the wall clock, which cannot be moved: start it with a manual clock \
                     (`deployer up --local --clock manual`) to move time with `deployer time advance|next --local`"
                        .into(),
                ));
            };
            let before = clock.now_ms();
            match how {
                ClockMove::Advance { ms } => manual.advance(Duration::from_millis(ms)),
                ClockMove::Next => {
                    if let (_, Some(next)) = engine.timers_around(before)? {
                        manual.advance_to(next);
                    }
                }
            }
            (before, engine.timers_around(clock.now_ms())?.0)
        };
        let deadline = tokio::time::Instant::now() + APPLY_WAIT;
        loop {
            let (now, (due, next)) = {
                let engine = self.engine();
                let now = engine.environment().clock.now_ms();
                (now, engine.timers_around(now)?)
            };
            if due == 0 || tokio::time::Instant::now() >= deadline {
                return Ok(ClockReading { now_ms: now, moved_ms: now - before, fired, next_timer_ms: next });
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The manual clock's time, when the service runs on one.
    pub fn manual_now(&self) -> Option<i64> {
        let engine = self.engine();
        let clock = &engine.environment().clock;
        clock.manual().map(|_| clock.now_ms())
    }
}
