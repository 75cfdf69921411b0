//! The durable execution API calls the commands need, with pagination, returning plain [`super::model`] values.
//!
//! The same calls serve AWS and the local target. Two differences are absorbed here: the local engine filters
//! `ListDurableExecutionsByFunction` by the bare function name only (an ARN matches nothing), so callers pass the
//! name; and it lists oldest first where AWS lists newest first, so the order is established on this side.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{ExecutionStatus, InvocationType};

use super::convert;
use super::model::{ExecutionDetail, ExecutionSummary, HistoryEvent, Timestamp};
use crate::aws::service_message;
use crate::error::{DeployerError, Result};

/// Executions asked for per page (the service's default).
pub(crate) const PAGE_SIZE: i32 = 100;
/// Pages read at most in one listing (a guard against a service that never stops paging).
pub(crate) const MAX_PAGES: usize = 100;

/// Which executions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListOptions {
    /// Only these statuses (`RUNNING`, `SUCCEEDED`, ...); all when empty.
    pub statuses: Vec<String>,
    /// Only executions with this name.
    pub name: Option<String>,
    /// At most this many, newest first.
    pub limit: usize,
}

/// How a command names an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selector {
    /// The newest execution of the function.
    Latest,
    /// An execution ARN, used as-is.
    Arn(String),
    /// An execution name (`[A-Za-z0-9_-]{1,64}`), resolved through the list call.
    Name(String),
}

impl Selector {
    /// Parses `latest`, an ARN (anything with `:` or `/`, which names cannot hold) or a name.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text == "latest" {
            Ok(Self::Latest)
        } else if text.contains(':') || text.contains('/') {
            Ok(Self::Arn(text.to_owned()))
        } else if is_execution_name(text) {
            Ok(Self::Name(text.to_owned()))
        } else {
            Err(DeployerError::Usage(format!(
                "`{text}` is neither `latest`, an execution ARN nor an execution name (1 to 64 letters, digits, `-` \
                 or `_`): list the executions with `deployer executions`"
            )))
        }
    }
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Latest => f.write_str("`latest`"),
            Self::Arn(arn) => write!(f, "{arn}"),
            Self::Name(name) => write!(f, "`{name}`"),
        }
    }
}

/// A name for an execution the user did not name: `invoke-<UTC date and time>-<8 random hex digits>`.
///
/// The service treats a start under a name it already holds (with the same payload) as the same execution, so the
/// SDK's retry of a start whose answer was lost (the request accepted, then the connection dropped) returns the
/// execution it already started instead of starting a second one. Without a name every attempt is a new execution.
pub(crate) fn generated_name() -> String {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]");
    let now = time::OffsetDateTime::now_utc().format(&format).unwrap_or_default();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("invoke-{now}-{}", &random[..8])
}

/// Whether `text` is a valid durable execution name: 1 to 64 of `[A-Za-z0-9_-]`.
pub(crate) fn is_execution_name(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Executions of `function` (a bare function name), newest first, at most `options.limit`.
///
/// Reads pages until it has `limit` executions in newest-first order, or to the end when the service lists oldest
/// first; then sorts by start time, newest first.
pub(crate) async fn list_executions(
    client: &Client,
    function: &str,
    options: &ListOptions,
) -> Result<Vec<ExecutionSummary>> {
    let mut found: Vec<ExecutionSummary> = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        // The local engine applies only the first status of a filter: several are filtered on this side alone.
        let statuses = match options.statuses.as_slice() {
            [one] => Some(vec![ExecutionStatus::from(one.as_str())]),
            _ => None,
        };
        let page = client
            .list_durable_executions_by_function()
            .function_name(function)
            .set_statuses(statuses)
            .set_durable_execution_name(options.name.clone())
            .max_items(PAGE_SIZE)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(not_found_or("Lambda.ListDurableExecutionsByFunction", || {
                (format!("no function {function}"), "deploy the stack first with `deployer up`".to_owned())
            }))?;
        found.extend(page.durable_executions().iter().map(convert::summary).filter(|e| wanted(e, options)));
        marker = next_marker(marker.as_deref(), page.next_marker());
        if marker.is_none() || (found.len() >= options.limit && newest_first(&found)) {
            break;
        }
    }
    found.sort_by_key(|e| std::cmp::Reverse(e.started));
    found.truncate(options.limit);
    Ok(found)
}

/// The marker for the next page: none when the service sent none, an empty one, or the one just sent (a service
/// that would page forever).
fn next_marker(sent: Option<&str>, next: Option<&str>) -> Option<String> {
    next.filter(|m| !m.is_empty() && Some(*m) != sent).map(str::to_owned)
}

/// Filters on this side too: the service's filters are an optimisation, not relied on.
fn wanted(execution: &ExecutionSummary, options: &ListOptions) -> bool {
    (options.statuses.is_empty() || options.statuses.iter().any(|s| s == &execution.status))
        && options.name.as_ref().is_none_or(|name| name == &execution.name)
}

/// Whether the executions read so far are provably listed newest first.
fn newest_first(found: &[ExecutionSummary]) -> bool {
    let starts: Vec<Option<Timestamp>> = found.iter().map(|e| e.started).collect();
    starts.windows(2).all(|pair| matches!(pair, [a, b] if a >= b)) && starts.first() > starts.last()
}

/// The ARN of the execution `selector` names among the executions of `function`.
pub(crate) async fn resolve(client: &Client, function: &str, selector: &Selector) -> Result<String> {
    let (options, what) = match selector {
        Selector::Arn(arn) => return Ok(arn.clone()),
        Selector::Latest => (ListOptions { limit: 1, ..ListOptions::default() }, "no executions".to_owned()),
        Selector::Name(name) => (
            ListOptions { limit: 1, name: Some(name.clone()), ..ListOptions::default() },
            format!("no execution named `{name}`"),
        ),
    };
    let newest = list_executions(client, function, &options).await?;
    newest.into_iter().next().map(|e| e.arn).ok_or_else(|| DeployerError::NotFound {
        what: format!("{what} of {function}"),
        remedy: "list them with `deployer executions`, or start one with `deployer invoke`".to_owned(),
        source: None,
    })
}

/// One execution in full.
pub(crate) async fn get_execution(client: &Client, arn: &str) -> Result<ExecutionDetail> {
    let output = client
        .get_durable_execution()
        .durable_execution_arn(arn)
        .send()
        .await
        .map_err(not_found_or("Lambda.GetDurableExecution", || no_execution(arn)))?;
    Ok(convert::detail(&output))
}

/// The whole history of one execution, with inputs and results, in event order.
pub(crate) async fn history(client: &Client, arn: &str) -> Result<Vec<HistoryEvent>> {
    let events = history_pages(client, arn, |event| Some(convert::history_event(event))).await?;
    Ok(ordered(events, |e| i64::from(e.id)))
}

/// The whole history of one execution as the local target records it (with inputs and results), for `replay`.
pub(crate) async fn recorded_history(client: &Client, arn: &str) -> Result<Vec<local::engine::model::Event>> {
    let events = history_pages(client, arn, convert::recorded_event).await?;
    Ok(ordered(events, |e| e.event_id))
}

/// Every page of an execution's history, each event converted by `convert`.
async fn history_pages<T>(
    client: &Client,
    arn: &str,
    convert: impl Fn(&aws_sdk_lambda::types::Event) -> Option<T>,
) -> Result<Vec<T>> {
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .get_durable_execution_history()
            .durable_execution_arn(arn)
            .include_execution_data(true)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(not_found_or("Lambda.GetDurableExecutionHistory", || no_execution(arn)))?;
        events.extend(page.events().iter().filter_map(&convert));
        marker = next_marker(marker.as_deref(), page.next_marker());
        if marker.is_none() {
            break;
        }
    }
    Ok(events)
}

/// Events in id order, each once (pages read while the history grows may repeat one).
fn ordered<T>(mut events: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    events.sort_by_key(&id);
    events.dedup_by_key(|e| id(e));
    events
}

/// Stops a running execution; returns when the service recorded the stop.
pub(crate) async fn stop(client: &Client, arn: &str) -> Result<Option<Timestamp>> {
    let output = client
        .stop_durable_execution()
        .durable_execution_arn(arn)
        .send()
        .await
        .map_err(not_found_or("Lambda.StopDurableExecution", || no_execution(arn)))?;
    Ok(Some(Timestamp::from_smithy(output.stop_timestamp())).filter(|t| t.0 > 0))
}

/// What to tell a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallbackOutcome {
    /// It succeeded with this result (JSON text).
    Succeed(Vec<u8>),
    /// It failed with this error.
    Fail {
        /// `ErrorType`.
        error_type: Option<String>,
        /// `ErrorMessage`.
        message: Option<String>,
        /// `ErrorData`.
        data: Option<String>,
    },
    /// The external system is still working on it.
    Heartbeat,
}

/// `SendDurableExecutionCallbackSuccess` / Failure / Heartbeat.
pub(crate) async fn send_callback(client: &Client, callback_id: &str, outcome: CallbackOutcome) -> Result<()> {
    let advice = || {
        (
            format!("no open callback {callback_id}"),
            "check the id in `deployer history` (CallbackStarted), and that the execution is still running".to_owned(),
        )
    };
    match outcome {
        CallbackOutcome::Succeed(result) => client
            .send_durable_execution_callback_success()
            .callback_id(callback_id)
            .result(Blob::new(result))
            .send()
            .await
            .map(|_| ())
            .map_err(callback_error("Lambda.SendDurableExecutionCallbackSuccess", advice)),
        CallbackOutcome::Fail { error_type, message, data } => {
            let error = aws_sdk_lambda::types::ErrorObject::builder()
                .set_error_type(error_type)
                .set_error_message(message)
                .set_error_data(data)
                .build();
            client
                .send_durable_execution_callback_failure()
                .callback_id(callback_id)
                .error(error)
                .send()
                .await
                .map(|_| ())
                .map_err(callback_error("Lambda.SendDurableExecutionCallbackFailure", advice))
        }
        CallbackOutcome::Heartbeat => client
            .send_durable_execution_callback_heartbeat()
            .callback_id(callback_id)
            .send()
            .await
            .map(|_| ())
            .map_err(callback_error("Lambda.SendDurableExecutionCallbackHeartbeat", advice)),
    }
}

/// A callback the service does not know, or one already completed, gets advice; anything else is an API error.
fn callback_error<E>(
    operation: &'static str,
    advice: impl FnOnce() -> (String, String),
) -> impl FnOnce(SdkError<E, HttpResponse>) -> DeployerError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |error| {
        let code = error.code().map(str::to_owned);
        if matches!(code.as_deref(), Some("ResourceNotFoundException" | "InvalidParameterValueException")) {
            let (what, remedy) = advice();
            DeployerError::NotFound {
                what: format!("{what} ({})", service_message(&error)),
                remedy,
                source: Some(Box::new(error)),
            }
        } else {
            crate::aws::api_error(operation, service_message(&error))
        }
    }
}

/// Starts an execution without waiting for it (an `Event` invocation of `function`, a qualified ARN); returns the
/// execution's ARN when the service sent it.
pub(crate) async fn start(
    client: &Client,
    function: &str,
    payload: Vec<u8>,
    name: Option<&str>,
) -> Result<Option<String>> {
    let output = client
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .set_durable_execution_name(name.map(str::to_owned))
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| invoke_error(&e, name))?;
    Ok(output.durable_execution_arn().map(str::to_owned))
}

/// Explains an `Invoke` error; a name already used for another payload gets its own advice.
pub(crate) fn invoke_error<E, R>(error: &SdkError<E, R>, name: Option<&str>) -> DeployerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if error.code() == Some("DurableExecutionAlreadyStartedException") {
        let name = name.unwrap_or_default();
        return DeployerError::Conflict {
            what: format!("an execution named `{name}` already started with another payload"),
            remedy: format!("pass another `--name`, or follow the existing one with `deployer history {name}`"),
        };
    }
    crate::aws::api_error("Lambda.Invoke", service_message(error))
}

fn no_execution(arn: &str) -> (String, String) {
    (format!("no durable execution {arn}"), "list the executions with `deployer executions`".to_owned())
}

/// Converts an SDK error, turning "not found" (the error code, or a bare 404 from an engine that names its errors
/// differently) into [`DeployerError::NotFound`] with `advice` (what was not found, what to do) and the service's
/// answer as its source.
fn not_found_or<E>(
    operation: &'static str,
    advice: impl FnOnce() -> (String, String),
) -> impl FnOnce(SdkError<E, HttpResponse>) -> DeployerError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |error| {
        let status = error.raw_response().map(|r| r.status().as_u16());
        if error.code() == Some("ResourceNotFoundException") || status == Some(404) {
            let (what, remedy) = advice();
            DeployerError::NotFound { what, remedy, source: Some(Box::new(error)) }
        } else {
            crate::aws::api_error(operation, service_message(&error))
        }
    }
}
