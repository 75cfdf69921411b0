//! The test's virtual clock: it stands still while handlers run, and moves only when the test moves it, firing
//! the waits, retry delays, callback timeouts and execution timeouts it passes, in time order.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::app::Inner;
use crate::error::{Result, TestError};

/// How often the clock looks whether the service went idle.
const POLL: Duration = Duration::from_millis(1);

/// The virtual clock of one [`crate::TestApp`].
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock").field("now", &self.now()).finish()
    }
}

pub(crate) fn to_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

impl Clock {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// What the clock reads.
    pub fn now(&self) -> SystemTime {
        use local::engine::Clock as _;
        to_time(self.inner.clock().now_ms())
    }

    /// Waits until nothing runs and nothing is due without moving the clock: every handler invocation, chained
    /// invoke and asynchronous invocation under way has ended and what it led to has run too. Executions then wait
    /// for time to move, for a callback, or have ended.
    ///
    /// # Errors
    ///
    /// [`TestError::Timeout`] when work is still running after the app's busy limit (a handler that hangs).
    pub async fn run_until_idle(&self) -> Result<()> {
        let service = self.inner.service()?;
        let limit = self.inner.busy_limit;
        let started = tokio::time::Instant::now();
        // Twice in a row: the work a finished task hands on is counted before the task stops counting, but a
        // second look costs a millisecond and rules out reading between a timer's move and its alarm.
        let mut idle_seen = 0;
        loop {
            if service.is_idle()? {
                idle_seen += 1;
                if idle_seen == 2 {
                    return Ok(());
                }
            } else {
                idle_seen = 0;
            }
            if started.elapsed() > limit {
                return Err(TestError::Timeout(format!(
                    "the app is still busy after {limit:?}: a handler or function is still running (see \
                     `TestApp::log`), or raise the limit with `TestApp::builder().busy_limit(...)`"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// When the first armed timer fires (a wait's end, a retry, a callback or execution timeout), if one is armed.
    ///
    /// # Errors
    ///
    /// The engine's failure to read its store.
    pub async fn next_timer(&self) -> Result<Option<SystemTime>> {
        self.run_until_idle().await?;
        Ok(self.next_at()?.map(to_time))
    }

    /// The first timer of a running execution after now, epoch ms (timers of ended executions stay armed in the
    /// store and fire as no-ops; they are not waited for).
    fn next_at(&self) -> Result<Option<i64>> {
        use local::engine::Clock as _;
        let service = self.inner.service()?;
        let engine = service.engine();
        Ok(engine.timers_around(self.inner.clock().now_ms())?.1)
    }

    /// Moves the clock to the first armed timer, fires it and runs until idle; returns the time it moved to, or
    /// `None` (the clock unmoved) when no timer is armed.
    ///
    /// # Errors
    ///
    /// As [`Clock::run_until_idle`].
    pub async fn fire_next_timer(&self) -> Result<Option<SystemTime>> {
        self.run_until_idle().await?;
        let Some(at) = self.next_at()? else { return Ok(None) };
        self.inner.clock().advance_to(at);
        self.run_until_idle().await?;
        Ok(Some(to_time(at)))
    }

    /// Moves the clock forward by `by`, timer by timer: each timer on the way fires at its own time and what it
    /// leads to runs (and may arm later timers that also fire on the way) before the clock moves on.
    ///
    /// # Errors
    ///
    /// As [`Clock::run_until_idle`].
    pub async fn advance(&self, by: Duration) -> Result<()> {
        use local::engine::Clock as _;
        let clock = self.inner.clock();
        let target = clock.now_ms().saturating_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX));
        loop {
            self.run_until_idle().await?;
            match self.next_at()? {
                Some(at) if at <= target => clock.advance_to(at),
                _ => break,
            }
        }
        clock.advance_to(target);
        self.run_until_idle().await
    }

    /// Moves the clock to `at` (never back), as [`Clock::advance`] does.
    ///
    /// # Errors
    ///
    /// As [`Clock::run_until_idle`].
    pub async fn advance_to(&self, at: SystemTime) -> Result<()> {
        let by = at.duration_since(self.now()).unwrap_or_default();
        self.advance(by).await
    }
}
