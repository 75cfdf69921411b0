//! Following a running execution: poll its state and history, report each new event, return when it ends.

use std::time::Duration;

use aws_sdk_lambda::Client;

use super::api;
use super::model::ExecutionDetail;
use crate::error::{DeployerError, Result};
use crate::io::{Event, Host};

/// The first pause between polls; it doubles up to [`MAX_POLL`].
pub(crate) const FIRST_POLL: Duration = Duration::from_millis(100);
/// The longest pause between polls.
pub(crate) const MAX_POLL: Duration = Duration::from_secs(2);
/// Polls that may find no execution yet (a service that records the start a moment after answering the invoke).
const NOT_YET_VISIBLE: u32 = 10;

/// Reports every history event of execution `arn` as an [`Event::ExecutionActivity`], as it happens, until the
/// execution ends; returns its final state.
pub(crate) async fn follow(client: &Client, arn: &str, host: &dyn Host) -> Result<ExecutionDetail> {
    let mut reported = 0;
    let mut delay = FIRST_POLL;
    let mut misses = 0;
    loop {
        // State first, history second: when the state says it ended, the history read after it is complete.
        let detail = match api::get_execution(client, arn).await {
            Ok(detail) => Some(detail),
            Err(DeployerError::NotFound { .. }) if misses < NOT_YET_VISIBLE => {
                misses += 1;
                None
            }
            Err(error) => return Err(error),
        };
        if let Some(detail) = detail {
            let seen = reported;
            for activity in api::history(client, arn).await?.into_iter().filter(|e| e.id > seen) {
                reported = reported.max(activity.id);
                host.notify(Event::ExecutionActivity { execution: arn.to_owned(), activity });
            }
            if detail.is_done() {
                return Ok(detail);
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_POLL);
    }
}
