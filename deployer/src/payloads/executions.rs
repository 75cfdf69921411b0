//! Plain data about durable executions, independent of the AWS SDK's types: what the commands show and `--json` prints.

use serde::{Serialize, Serializer};

/// A point in time, in milliseconds since the Unix epoch (UTC). Serialized as RFC 3339 with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp(pub i64);

impl Timestamp {
    /// Converts the SDK's timestamp, to the nearest millisecond (the API sends epoch seconds as a decimal number,
    /// so `.063` arrives as `.062999…`).
    pub(crate) fn from_smithy(time: &aws_smithy_types::DateTime) -> Self {
        let millis = i64::from((time.subsec_nanos() + 500_000) / 1_000_000);
        Self(time.secs().saturating_mul(1000).saturating_add(millis))
    }

    /// A system time.
    pub(crate) fn from_system(time: std::time::SystemTime) -> Self {
        let millis = match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
        };
        Self(millis)
    }

    /// Parses RFC 3339 (`2026-11-26T21:40:26.614Z`); `None` when it is not.
    pub(crate) fn parse_rfc3339(text: &str) -> Option<Self> {
        let time = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        i64::try_from(time.unix_timestamp_nanos() / 1_000_000).ok().map(Self)
    }

    fn date_time(self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).ok()
    }

    fn format(self, format: &[time::format_description::FormatItem<'_>]) -> String {
        self.date_time().and_then(|t| t.format(format).ok()).unwrap_or_else(|| self.0.to_string())
    }

    /// `2026-11-26T21:40:26.614Z`.
    pub(crate) fn rfc3339(self) -> String {
        self.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
    }

    /// `2026-11-26 21:40:26`, for tables of executions.
    pub(crate) fn date_and_time(self) -> String {
        self.format(time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
    }

    /// `21:40:26.614`, for the operations of one execution.
    pub(crate) fn clock(self) -> String {
        self.format(time::macros::format_description!("[hour]:[minute]:[second].[subsecond digits:3]"))
    }

    /// Milliseconds from `self` to `later`, when `later` is known and not earlier.
    pub(crate) fn until(self, later: Option<Self>) -> Option<i64> {
        later.map(|end| end.0 - self.0).filter(|ms| *ms >= 0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

/// An error the service recorded for an execution or an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorInfo {
    /// The error's type, e.g. `InvalidValues`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// The message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Extra data the function attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The stack trace, one frame line per entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stack_trace: Vec<String>,
}

impl ErrorInfo {
    /// `Type: message`, or whichever of the two is known.
    pub(crate) fn summary(&self) -> String {
        match (&self.error_type, &self.message) {
            (Some(kind), Some(message)) if message.contains(kind.as_str()) => message.clone(),
            (Some(kind), Some(message)) => format!("{kind}: {message}"),
            (Some(kind), None) => kind.clone(),
            (None, Some(message)) => message.clone(),
            (None, None) => "(no error details)".to_owned(),
        }
    }
}

/// One execution, as listed by `ListDurableExecutionsByFunction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ExecutionSummary {
    /// The execution's ARN.
    pub arn: String,
    /// Its name (given with `--name`, else generated).
    pub name: String,
    /// The qualified function ARN (version) it runs.
    pub function_arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `STOPPED`.
    pub status: String,
    /// When it started.
    pub started: Option<Timestamp>,
    /// When it ended.
    pub ended: Option<Timestamp>,
    /// How long it ran, when it ended.
    pub duration_ms: Option<i64>,
}

/// One execution in full, as `GetDurableExecution` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ExecutionDetail {
    /// The execution's ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The function ARN it runs.
    pub function_arn: String,
    /// The function version.
    pub version: Option<String>,
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `STOPPED`.
    pub status: String,
    /// When it started.
    pub started: Option<Timestamp>,
    /// When it ended.
    pub ended: Option<Timestamp>,
    /// How long it ran, when it ended.
    pub duration_ms: Option<i64>,
    /// The payload it was started with.
    pub input: Option<String>,
    /// Its result, when it succeeded.
    pub result: Option<String>,
    /// Its error, when it failed.
    pub error: Option<ErrorInfo>,
}

impl ExecutionDetail {
    /// Whether the execution has ended.
    pub(crate) fn is_done(&self) -> bool {
        self.status != "RUNNING"
    }
}

/// When one invocation of the durable function ran (`InvocationCompleted` details, when the service sends them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct InvocationTimes {
    /// When it started.
    pub started: Option<Timestamp>,
    /// When it ended.
    pub ended: Option<Timestamp>,
    /// The Lambda request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One event of an execution's history, flattened from the service's per-type details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct HistoryEvent {
    /// Position in the history, from 1.
    pub id: i32,
    /// The event type, e.g. `StepSucceeded`, `InvocationCompleted`.
    pub event_type: String,
    /// When it happened.
    pub at: Option<Timestamp>,
    /// The operation's id (for execution events, the execution's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The operation's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The enclosing operation, for operations inside a context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The operation's input (execution start, chained invoke start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The operation's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Whether the service truncated the input, result or error it stored here.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The operation's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// The step attempt this event belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<i32>,
    /// Seconds until the step's next attempt, when it will be retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<i32>,
    /// The function a chained invoke calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Seconds a wait lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<i32>,
    /// A callback's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// An invocation's times, for `InvocationCompleted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation: Option<InvocationTimes>,
}
