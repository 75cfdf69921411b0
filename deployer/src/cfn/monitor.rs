//! Watch: follows a stack operation through its events until the stack reaches a final status.
//!
//! New events are found by paging `DescribeStackEvents` back to the newest event seen before the operation started,
//! so clock drift between this machine and CloudFormation cannot hide or repeat events.
//!
//! CloudFormation's reads are eventually consistent: right after `ExecuteChangeSet` or `DeleteStack`, the first
//! `DescribeStacks` can still show the status the previous operation ended in (`UPDATE_COMPLETE`). A final status
//! is therefore believed only once the operation is known to have moved: an in-progress status was seen, the stack's
//! own event stream (newer than the cursor) reached that status, the executed change set's `ExecutionStatus` says it
//! ran, or the stack is gone after a delete.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackEvent;

use super::status::{is_success, is_terminal, resource_done};
use crate::aws::{aws_error, service_message};
use crate::error::{DeployerError, Result};
use crate::io::{Event, Host};

/// Where the event stream stood before an operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventCursor {
    newest_before: Option<String>,
}

impl EventCursor {
    /// A cursor standing at event `id`: only events newer than it are reported.
    #[cfg(test)]
    pub(crate) fn after(id: &str) -> Self {
        Self { newest_before: Some(id.to_owned()) }
    }

    /// Remembers the newest event of `stack` (none for a stack that does not exist).
    pub(crate) async fn at_now(cfn: &Client, stack: &str) -> Result<Self> {
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
pub(crate) struct WatchOutcome {
    /// The stack's final status (`DELETE_COMPLETE` when it is gone).
    pub status: String,
    /// Failed resources, root cause first: `(logical id, status, reason)`.
    pub failures: Vec<(String, String, String)>,
}

/// The longest `watch` follows one operation before it stops and says how to go on watching: CloudFormation's own
/// waiters give a stack operation an hour.
pub(crate) const WATCH_LIMIT: Duration = Duration::from_hours(1);

/// The operation being watched: what tells its end from a status left by an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation<'a> {
    /// The change set of this name was just executed.
    ChangeSet(&'a str),
    /// `DeleteStack` was just called.
    Delete,
    /// An operation already seen in progress (started by someone else, or by an earlier run).
    Running,
}

/// What is known, at one poll, about whether the watched operation has moved the stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Evidence {
    /// A status read during the watch was `*_IN_PROGRESS`.
    pub saw_in_progress: bool,
    /// The status of the newest event of the stack itself newer than the cursor.
    pub stack_event_status: Option<String>,
    /// The executed change set's `ExecutionStatus`, when it was asked for.
    pub change_set_execution: Option<String>,
}

/// Whether `status`, read from `DescribeStacks`, is the end of `operation` rather than a stale read.
pub(crate) fn settled(operation: Operation<'_>, status: &str, evidence: &Evidence) -> bool {
    if !is_terminal(status) {
        return false;
    }
    if evidence.saw_in_progress || operation == Operation::Running {
        return true;
    }
    if evidence.stack_event_status.as_deref() == Some(status) {
        return true;
    }
    match operation {
        // Nothing but this delete makes a stack that existed a moment ago disappear.
        Operation::Delete => status == "DELETE_COMPLETE",
        // The change set's verdict must agree with the status: EXECUTE_FAILED beside a stale UPDATE_COMPLETE is the
        // change set ahead of the stack read, not a success.
        Operation::ChangeSet(_) => match evidence.change_set_execution.as_deref() {
            Some("EXECUTE_COMPLETE") => is_success(status),
            Some("EXECUTE_FAILED") => !is_success(status),
            _ => false,
        },
        Operation::Running => true,
    }
}

/// Follows `stack` (name or id) until `operation` ends, reporting events and progress to `host`. Gives up after
/// `limit` with an error that says the operation goes on in AWS and how to look at it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn watch(
    cfn: &Client,
    stack: &str,
    display_name: &str,
    cursor: EventCursor,
    operation: Operation<'_>,
    total_resources: usize,
    limit: Duration,
    host: &dyn Host,
) -> Result<WatchOutcome> {
    let started = Instant::now();
    let mut seen: HashSet<String> = HashSet::new();
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut evidence = Evidence { saw_in_progress: operation == Operation::Running, ..Evidence::default() };
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
            if is_stack {
                evidence.stack_event_status = Some(status.clone());
            } else {
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
        evidence.saw_in_progress |= !is_terminal(&status);
        let done = latest.values().filter(|s| resource_done(s)).count();
        host.notify(Event::Progress {
            stack: display_name.to_owned(),
            done: done.min(total_resources),
            total: total_resources.max(done),
            in_progress: latest.iter().filter(|(_, s)| !resource_done(s)).map(|(id, _)| id.clone()).collect(),
        });
        if is_terminal(&status)
            && !settled(operation, &status, &evidence)
            && let Operation::ChangeSet(name) = operation
        {
            evidence.change_set_execution = change_set_execution(cfn, stack, name).await?;
        }
        if settled(operation, &status, &evidence) {
            host.notify(Event::StackDone {
                stack: display_name.to_owned(),
                status: status.clone(),
                seconds: started.elapsed().as_secs_f64(),
            });
            return Ok(WatchOutcome { status, failures: root_cause_first(failures) });
        }
        if started.elapsed() >= limit {
            return Err(still_running(display_name, operation, &status, limit));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// The error for a watch that ran out of time: the operation itself goes on in CloudFormation.
fn still_running(stack: &str, operation: Operation<'_>, status: &str, limit: Duration) -> DeployerError {
    let next = if operation == Operation::Delete { "`deployer down`" } else { "`deployer up`" };
    DeployerError::TimedOut(format!(
        "stopped watching {stack} after {} min: CloudFormation is still running the operation (last status \
         {status}) and carries on without the deployer. Follow it with `aws cloudformation describe-stack-events \
         --stack-name {stack}` or in the CloudFormation console, and run {next} again once it has ended",
        limit.as_secs().div_ceil(60)
    ))
}

/// The `ExecutionStatus` of change set `name`, or `None` when CloudFormation no longer lists it.
async fn change_set_execution(cfn: &Client, stack: &str, name: &str) -> Result<Option<String>> {
    match cfn.describe_change_set().stack_name(stack).change_set_name(name).send().await {
        Ok(described) => Ok(described.execution_status().map(|s| s.as_str().to_owned())),
        Err(e) if service_message(&e).contains("ChangeSetNotFound") => Ok(None),
        Err(e) => Err(aws_error("CloudFormation.DescribeChangeSet")(e)),
    }
}

/// Orders failures so the first one is the cause: CloudFormation cancels the others because of it.
pub(crate) fn root_cause_first(mut failures: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
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
    fn a_final_status_is_believed_only_with_evidence_of_this_operation() {
        let none = Evidence::default();
        let change_set = Operation::ChangeSet("cs");
        assert!(!settled(change_set, "UPDATE_COMPLETE", &none), "a stale read alone");
        assert!(!settled(change_set, "UPDATE_IN_PROGRESS", &none));
        let moved = Evidence { saw_in_progress: true, ..Evidence::default() };
        assert!(settled(change_set, "UPDATE_ROLLBACK_COMPLETE", &moved));
        let event = Evidence { stack_event_status: Some("UPDATE_COMPLETE".into()), ..Evidence::default() };
        assert!(settled(change_set, "UPDATE_COMPLETE", &event));
        let older_event = Evidence { stack_event_status: Some("UPDATE_IN_PROGRESS".into()), ..Evidence::default() };
        assert!(!settled(change_set, "UPDATE_COMPLETE", &older_event));
        let executed = |s: &str| Evidence { change_set_execution: Some(s.into()), ..Evidence::default() };
        assert!(settled(change_set, "UPDATE_COMPLETE", &executed("EXECUTE_COMPLETE")));
        assert!(!settled(change_set, "UPDATE_COMPLETE", &executed("EXECUTE_FAILED")), "stack read behind");
        assert!(!settled(change_set, "UPDATE_COMPLETE", &executed("EXECUTE_IN_PROGRESS")));
        assert!(settled(Operation::Delete, "DELETE_COMPLETE", &none));
        assert!(!settled(Operation::Delete, "DELETE_FAILED", &none), "a delete that failed before");
        assert!(settled(Operation::Running, "UPDATE_COMPLETE", &none));
    }

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
