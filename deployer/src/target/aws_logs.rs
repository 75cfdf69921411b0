//! `logs` on AWS: the functions' own log groups, through CloudWatch Logs `FilterLogEvents`, merged in time order.
//!
//! A function's group is the one its `LoggingConfig` names (the stack's log group), else Lambda's default
//! `/aws/lambda/<function name>`. `--follow` polls `FilterLogEvents` every two seconds from a little before the
//! newest line seen (events are ingested out of order), skipping event ids already printed. `StartLiveTail` would
//! push lines instead, but it is billed per session minute, ends after three hours, needs `logs:StartLiveTail`,
//! and the AWS stand-in the tests use (moto 5.2) answers it with one JSON snapshot instead of an event stream, so
//! a live-tail path could not be tested here; polling reads the same lines at most two seconds later.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::LogsRequest;
use super::TargetContext;
use crate::aws::{Aws, api_error, service_message};
use crate::durable::Timestamp;
use crate::error::Result;
use crate::io::Event;
use crate::target::local::names_execution;

/// How far back `logs` reads when `--since` is not given.
pub(crate) const DEFAULT_SINCE: Duration = Duration::from_mins(10);
/// How often `--follow` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);
/// How far before the newest line seen a follow-up read starts: lines ingested late still show.
const LOOKBACK: Duration = Duration::from_secs(30);
/// Pages read at most per group and read (a guard against a service that never stops paging).
const MAX_PAGES: usize = 100;

/// One log event, with the function it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    timestamp: i64,
    id: String,
    function: String,
    message: String,
}

/// Prints the functions' log lines from `--since` (10 minutes by default), then, with `--follow`, new ones.
pub(super) async fn logs(ctx: &TargetContext, aws: &Aws, request: LogsRequest<'_>) -> Result<()> {
    let groups: Vec<(String, String)> = request
        .functions
        .iter()
        .map(|(spec, name)| {
            let group = spec
                .log_group
                .as_ref()
                .and_then(|id| request.deployed.physical.get(id).cloned())
                .unwrap_or_else(|| format!("/aws/lambda/{name}"));
            (spec.construct_id.clone(), group)
        })
        .collect();
    let since = request.since.unwrap_or(DEFAULT_SINCE);
    let mut from = Timestamp::from_system(SystemTime::now() - since).0;
    let mut printed: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        let mut lines = Vec::new();
        for (function, group) in &groups {
            lines.extend(read(aws, function, group, from).await?);
        }
        lines.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        for line in lines {
            if printed.insert(line.id.clone(), line.timestamp).is_some() {
                continue;
            }
            if request.execution.as_deref().is_some_and(|arn| !names_execution(&line.message, arn)) {
                continue;
            }
            ctx.host.notify(Event::LogLine {
                function: line.function,
                timestamp: Some(Timestamp(line.timestamp)),
                message: line.message.trim_end_matches(['\n', '\r']).to_owned(),
            });
        }
        if !request.follow {
            return Ok(());
        }
        let newest = printed.values().copied().max().unwrap_or(from);
        let lookback = i64::try_from(LOOKBACK.as_millis()).unwrap_or(i64::MAX);
        from = from.max(newest.saturating_sub(lookback));
        printed.retain(|_, timestamp| *timestamp >= from);
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// Every event of `group` from `from` (epoch milliseconds) on; none when the group does not exist yet (Lambda
/// creates its default group at the first invocation).
async fn read(aws: &Aws, function: &str, group: &str, from: i64) -> Result<Vec<Line>> {
    let mut lines = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = match aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(from)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(page) => page,
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsError::is_resource_not_found_exception,
                ) =>
            {
                return Ok(lines);
            }
            Err(error) => return Err(api_error("CloudWatchLogs.FilterLogEvents", service_message(&error))),
        };
        for event in page.events() {
            let timestamp = event.timestamp().unwrap_or_default();
            let id = event.event_id().map_or_else(
                || format!("{group}/{}/{timestamp}/{}", event.log_stream_name().unwrap_or_default(), lines.len()),
                str::to_owned,
            );
            lines.push(Line {
                timestamp,
                id,
                function: function.to_owned(),
                message: event.message().unwrap_or_default().to_owned(),
            });
        }
        token = page.next_token().filter(|t| !t.is_empty() && Some(*t) != token.as_deref()).map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(lines)
}
