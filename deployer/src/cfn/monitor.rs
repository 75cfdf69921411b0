//! Watch: follows a stack operation through its events until the stack reaches a final status.
//!
//! New events are found by paging `DescribeStackEvents` back to the newest event seen before the operation started,
//! so clock drift between this machine and CloudFormation cannot hide or repeat events.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackEvent;

use super::status::{is_terminal, resource_done};
use crate::aws::{aws_error, service_message};
use crate::error::Result;
use crate::io::{Event, Host};

/// Where the event stream stood before an operation.
#[derive(Debug, Clone, Default)]
pub struct EventCursor {
    newest_before: Option<String>,
}

impl EventCursor {
    /// Remembers the newest event of `stack` (none for a stack that does not exist).
    pub async fn at_now(cfn: &Client, stack: &str) -> Result<Self> {
        match cfn.describe_stack_events().stack_name(stack).send().await {
            Ok(page) => {
                Ok(Self { newest_before: page.stack_events().first().and_then(|e| e.event_id()).map(str::to_owned) })
            }
            Err(e) if service_message(&e).contains("does not exist") => Ok(Self::default()),
            Err(e) => Err(aws_error("CloudFormation.DescribeStackEvents")(e)),
        }
    }
}

/// How a watched operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOutcome {
    /// The stack's final status (`DELETE_COMPLETE` when it is gone).
    pub status: String,
    /// Failed resources, root cause first: `(logical id, status, reason)`.
    pub failures: Vec<(String, String, String)>,
}

/// Follows `stack` (name or id) until its status is final, reporting events and progress to `host`.
pub async fn watch(
    cfn: &Client,
    stack: &str,
    display_name: &str,
    cursor: EventCursor,
    total_resources: usize,
    host: &dyn Host,
) -> Result<WatchOutcome> {
    let started = Instant::now();
    let mut seen: HashSet<String> = HashSet::new();
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut delay = Duration::from_millis(200);
    loop {
        let fresh = new_events(cfn, stack, &cursor, &seen).await?;
        for event in fresh {
            let id = event.event_id().unwrap_or_default().to_owned();
            seen.insert(id);
            let logical = event.logical_resource_id().unwrap_or_default().to_owned();
            let status = event.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default();
            let reason = event.resource_status_reason().map(str::to_owned);
            let is_stack = event.resource_type() == Some("AWS::CloudFormation::Stack");
            if status.ends_with("_FAILED") && !is_stack {
                failures.push((logical.clone(), status.clone(), reason.clone().unwrap_or_default()));
            }
            if !is_stack {
                latest.insert(logical.clone(), status.clone());
            }
            host.notify(Event::StackEvent {
                stack: display_name.to_owned(),
                timestamp: event.timestamp().map(ToString::to_string).unwrap_or_default(),
                logical_id: logical,
                resource_type: event.resource_type().unwrap_or_default().to_owned(),
                status,
                reason,
            });
        }
        let status = current_status(cfn, stack).await?;
        let done = latest.values().filter(|s| resource_done(s)).count();
        host.notify(Event::Progress {
            stack: display_name.to_owned(),
            done: done.min(total_resources),
            total: total_resources.max(done),
            in_progress: latest.iter().filter(|(_, s)| !resource_done(s)).map(|(id, _)| id.clone()).collect(),
        });
        if is_terminal(&status) {
            host.notify(Event::StackDone {
                stack: display_name.to_owned(),
                status: status.clone(),
                seconds: started.elapsed().as_secs_f64(),
            });
            return Ok(WatchOutcome { status, failures: root_cause_first(failures) });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Orders failures so the first one is the cause: CloudFormation cancels the others because of it.
pub fn root_cause_first(mut failures: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    let is_consequence = |reason: &str| {
        reason.contains("Resource creation cancelled")
            || reason.contains("Resource update cancelled")
            || reason.contains("The following resource(s) failed")
    };
    // Stable: events arrive in time order, so within each group the earliest stays first.
    failures.sort_by_key(|(_, _, reason)| is_consequence(reason));
    failures
}

async fn current_status(cfn: &Client, stack: &str) -> Result<String> {
    match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(answer) => Ok(answer
            .stacks()
            .first()
            .and_then(|s| s.stack_status())
            .map_or_else(|| "DELETE_COMPLETE".to_owned(), |s| s.as_str().to_owned())),
        Err(e) => {
            let message = service_message(&e);
            if message.contains("does not exist") {
                Ok("DELETE_COMPLETE".to_owned())
            } else {
                Err(crate::aws::api_error("CloudFormation.DescribeStacks", message))
            }
        }
    }
}

async fn new_events(
    cfn: &Client,
    stack: &str,
    cursor: &EventCursor,
    seen: &HashSet<String>,
) -> Result<Vec<StackEvent>> {
    let mut collected = Vec::new();
    let mut token: Option<String> = None;
    'pages: loop {
        let page = match cfn.describe_stack_events().stack_name(stack).set_next_token(token.clone()).send().await {
            Ok(page) => page,
            Err(e) if service_message(&e).contains("does not exist") => break,
            Err(e) => return Err(aws_error("CloudFormation.DescribeStackEvents")(e)),
        };
        for event in page.stack_events() {
            let id = event.event_id().unwrap_or_default();
            if cursor.newest_before.as_deref() == Some(id) || seen.contains(id) {
                break 'pages;
            }
            collected.push(event.clone());
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    // Pages run newest first; report in the order things happened.
    collected.reverse();
    Ok(collected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_comes_before_the_cancellations() {
        let failures = vec![
            ("A".to_owned(), "CREATE_FAILED".to_owned(), "Resource creation cancelled".to_owned()),
            ("B".to_owned(), "CREATE_FAILED".to_owned(), "Role is invalid".to_owned()),
            ("C".to_owned(), "CREATE_FAILED".to_owned(), "Resource creation cancelled".to_owned()),
        ];
        let ordered = root_cause_first(failures);
        assert_eq!(ordered[0].0, "B");
        assert_eq!(ordered[1].0, "A");
        assert_eq!(ordered[2].0, "C");
    }
}
