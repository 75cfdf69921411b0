//! The API layer over responses recorded from the local target's durable engine (`fixtures/*.json`) and built in
//! the shapes of the Lambda API reference (`fixtures/aws-*.json`), served through `aws-smithy-mocks` so the real
//! SDK deserializes them: pagination, ordering, name and `latest` resolution, errors, following an execution,
//! starting one asynchronously.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use std::sync::Arc;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

use super::api::{self, ListOptions, Selector};
use crate::error::DeployerError;
use crate::io::{Event, RecordingHost};

pub(crate) const LIST_PAGE1: &str = include_str!("fixtures/list-page1.json");
pub(crate) const LIST_PAGE2: &str = include_str!("fixtures/list-page2.json");
pub(crate) const SUCCEEDED_GET: &str = include_str!("fixtures/succeeded-get.json");
pub(crate) const SUCCEEDED_HISTORY1: &str = include_str!("fixtures/succeeded-history-page1.json");
pub(crate) const SUCCEEDED_HISTORY2: &str = include_str!("fixtures/succeeded-history-page2.json");
pub(crate) const FAILED_GET: &str = include_str!("fixtures/failed-get.json");
pub(crate) const FAILED_HISTORY: &str = include_str!("fixtures/failed-history.json");

const FUNCTION: &str = "durable-invoke-lambda-Orchestrator";
const NEWEST_ARN: &str = "1ede26aa-72f5-4f19-80d4-2b8f0bf46721/7561e97c-8036-451a-a82a-1998c3892a0e";
const FAILED_ARN: &str = "6ac1c672-9410-4582-b0a7-299802765bc6/c1261291-e8af-4ad7-9b40-607cf581b069";
const SUCCEEDED_ARN: &str = "293312fd-6fc8-43de-9a44-53b26bd5ac19/4b17e6c9-ebd9-4550-b05b-8bc621705cd0";

fn client(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_lambda, RuleMode::MatchAny, rules)
}

fn ok(body: &str) -> String {
    body.to_owned()
}

/// The local engine's two pages (oldest first, as it lists), keyed on the marker.
fn engine_pages() -> (Rule, Rule) {
    let first = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.marker().is_none() && r.function_name() == Some(FUNCTION))
        .sequence()
        .http_status(200, Some(ok(LIST_PAGE1)))
        .repeatedly()
        .build();
    let second = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.marker() == Some("2"))
        .sequence()
        .http_status(200, Some(ok(LIST_PAGE2)))
        .repeatedly()
        .build();
    (first, second)
}

fn limit(limit: usize) -> ListOptions {
    ListOptions { limit, ..ListOptions::default() }
}

#[tokio::test]
async fn listing_reads_both_pages_and_puts_the_newest_first() {
    let (first, second) = engine_pages();
    let list = api::list_executions(&client(&[&first, &second]), FUNCTION, &limit(20)).await.unwrap();
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["rec-seed-2", "163f8ce9-f9a0-436a-9bbb-d201d28ec1ae", "rec-failed-1", "7b07dd59-8d71-4de0-b52d-4fbcd2c76f44"]
    );
    assert_eq!(list[0].status, "SUCCEEDED");
    assert_eq!(list[0].duration_ms, Some(207));
    assert_eq!(list[0].started.unwrap().rfc3339(), "2026-11-26T21:49:53.063Z");
    assert_eq!(list[2].status, "FAILED");
}

#[tokio::test]
async fn a_service_listing_newest_first_is_not_read_past_the_limit() {
    // AWS lists newest first: the first page already holds the newest executions.
    let mut page: serde_json::Value = serde_json::from_str(LIST_PAGE2).unwrap();
    page["DurableExecutions"].as_array_mut().unwrap().reverse();
    page["NextMarker"] = "2".into();
    let page = page.to_string();
    let first = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.marker().is_none())
        .sequence()
        .http_status(200, Some(page))
        .repeatedly()
        .build();
    let second = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.marker().is_some())
        .sequence()
        .http_status(200, Some(ok(LIST_PAGE1)))
        .repeatedly()
        .build();
    let list = api::list_executions(&client(&[&first, &second]), FUNCTION, &limit(2)).await.unwrap();
    assert_eq!((first.num_calls(), second.num_calls()), (1, 0));
    assert_eq!(
        list.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["rec-seed-2", "163f8ce9-f9a0-436a-9bbb-d201d28ec1ae"]
    );
}

#[tokio::test]
async fn the_limit_and_the_status_filter_hold_even_when_the_service_ignores_them() {
    let (first, second) = engine_pages();
    let client = client(&[&first, &second]);
    let options = ListOptions { statuses: vec!["FAILED".into()], ..limit(20) };
    let failed = api::list_executions(&client, FUNCTION, &options).await.unwrap();
    assert_eq!(failed.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["rec-failed-1"]);
    let options = ListOptions { statuses: vec!["FAILED".into(), "SUCCEEDED".into()], ..limit(20) };
    assert_eq!(api::list_executions(&client, FUNCTION, &options).await.unwrap().len(), 4);
    let one = api::list_executions(&client, FUNCTION, &limit(1)).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].arn, NEWEST_ARN);
}

#[tokio::test]
async fn one_status_is_sent_to_the_service_and_several_are_filtered_here() {
    use aws_sdk_lambda::types::ExecutionStatus;
    let one = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.statuses() == [ExecutionStatus::Failed])
        .sequence()
        .http_status(200, Some(r#"{"DurableExecutions":[]}"#.to_owned()))
        .repeatedly()
        .build();
    let all = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.statuses().is_empty())
        .sequence()
        .http_status(200, Some(r#"{"DurableExecutions":[]}"#.to_owned()))
        .repeatedly()
        .build();
    let client = client(&[&one, &all]);
    let options = ListOptions { statuses: vec!["FAILED".into()], ..limit(20) };
    api::list_executions(&client, FUNCTION, &options).await.unwrap();
    let options = ListOptions { statuses: vec!["FAILED".into(), "STOPPED".into()], ..limit(20) };
    api::list_executions(&client, FUNCTION, &options).await.unwrap();
    assert_eq!((one.num_calls(), all.num_calls()), (1, 1));
}

#[tokio::test]
async fn latest_is_the_newest_execution_across_pages() {
    let (first, second) = engine_pages();
    let arn = api::resolve(&client(&[&first, &second]), FUNCTION, &Selector::Latest).await.unwrap();
    assert_eq!(arn, NEWEST_ARN);
}

#[tokio::test]
async fn a_name_is_resolved_through_the_list_call_filtered_by_name() {
    // What the engine answers when filtered by name: the one execution, no further page.
    let mut page: serde_json::Value = serde_json::from_str(LIST_PAGE1).unwrap();
    page["DurableExecutions"].as_array_mut().unwrap().retain(|e| e["DurableExecutionName"] == "rec-failed-1");
    page.as_object_mut().unwrap().remove("NextMarker");
    let by_name = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.durable_execution_name() == Some("rec-failed-1"))
        .sequence()
        .http_status(200, Some(page.to_string()))
        .repeatedly()
        .build();
    let selector = Selector::parse("rec-failed-1").unwrap();
    let arn = api::resolve(&client(&[&by_name]), FUNCTION, &selector).await.unwrap();
    assert_eq!(arn, FAILED_ARN);
    assert_eq!(by_name.num_calls(), 1);
}

#[tokio::test]
async fn an_unknown_name_says_how_to_find_one() {
    let empty = mock!(Client::list_durable_executions_by_function)
        .sequence()
        .http_status(200, Some(r#"{"DurableExecutions":[]}"#.to_owned()))
        .repeatedly()
        .build();
    let error = api::resolve(&client(&[&empty]), FUNCTION, &Selector::Name("nope".into())).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, DeployerError::NotFound { .. }), "{text}");
    assert!(text.contains("no execution named `nope`") && text.contains("deployer executions"), "{text}");
}

#[test]
fn selectors_tell_arns_names_and_latest_apart() {
    assert_eq!(Selector::parse("latest").unwrap(), Selector::Latest);
    assert_eq!(Selector::parse(FAILED_ARN).unwrap(), Selector::Arn(FAILED_ARN.into()));
    let aws = "arn:aws:lambda:us-east-1:123456789012:function:f:1/durable-execution/run-1/abc";
    assert_eq!(Selector::parse(aws).unwrap(), Selector::Arn(aws.into()));
    assert_eq!(Selector::parse("run_1-a").unwrap(), Selector::Name("run_1-a".into()));
    let error = Selector::parse("two words").unwrap_err().to_string();
    assert!(error.contains("deployer executions"), "{error}");
    assert!(Selector::parse(&"a".repeat(65)).is_err());
}

/// The two pages of the succeeded execution's history, read with its data.
fn succeeded_history_pages() -> [Rule; 2] {
    let first = mock!(Client::get_durable_execution_history)
        .match_requests(|r| r.marker().is_none() && r.include_execution_data() == Some(true))
        .sequence()
        .http_status(200, Some(ok(SUCCEEDED_HISTORY1)))
        .repeatedly()
        .build();
    let second = mock!(Client::get_durable_execution_history)
        .match_requests(|r| r.marker() == Some("5"))
        .sequence()
        .http_status(200, Some(ok(SUCCEEDED_HISTORY2)))
        .repeatedly()
        .build();
    [first, second]
}

#[tokio::test]
async fn the_history_is_read_across_pages_in_event_order() {
    let [first, second] = succeeded_history_pages();
    let events = api::history(&client(&[&first, &second]), SUCCEEDED_ARN).await.unwrap();
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "StepStarted",
            "StepSucceeded",
            "ChainedInvokeStarted",
            "InvocationCompleted",
            "ChainedInvokeSucceeded",
            "InvocationCompleted",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        events[3].target.as_deref(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:durable-invoke-lambda-Processor:1")
    );
    assert!(events[5].result.as_deref().unwrap().contains(r#""sum": 150"#));
}

#[tokio::test]
async fn a_failed_execution_carries_its_error() {
    let get =
        mock!(Client::get_durable_execution).sequence().http_status(200, Some(ok(FAILED_GET))).repeatedly().build();
    let execution = api::get_execution(&client(&[&get]), FAILED_ARN).await.unwrap();
    assert_eq!(execution.status, "FAILED");
    let error = execution.error.unwrap();
    assert_eq!(error.error_type.as_deref(), Some("InvalidValues"));
    assert!(error.summary().starts_with("operation error: step"), "{}", error.summary());
    assert_eq!(error.stack_trace.len(), 2);
}

#[tokio::test]
async fn an_unknown_execution_says_what_to_do_even_without_an_error_code() {
    // The local engine answers 404 with `{"Type": ...}`, a body the SDK cannot read a code from.
    let body = r#"{"Type":"ResourceNotFoundException","Message":"Durable Execution does not exist"}"#;
    let get = mock!(Client::get_durable_execution).sequence().http_status(404, Some(body.into())).repeatedly().build();
    let error = api::get_execution(&client(&[&get]), "nope/nope").await.unwrap_err();
    assert!(
        matches!(&error, DeployerError::NotFound { remedy, source: Some(_), .. } if remedy.contains("deployer executions")),
        "{error}"
    );
}

#[tokio::test]
async fn following_reports_each_event_once_until_the_execution_ends() {
    let mut running: serde_json::Value = serde_json::from_str(SUCCEEDED_GET).unwrap();
    running["Status"] = "RUNNING".into();
    for key in ["EndTimestamp", "Result"] {
        running.as_object_mut().unwrap().remove(key);
    }
    let mut early: serde_json::Value = serde_json::from_str(SUCCEEDED_HISTORY1).unwrap();
    early.as_object_mut().unwrap().remove("NextMarker");
    let mut all: serde_json::Value = serde_json::from_str(SUCCEEDED_HISTORY1).unwrap();
    let later: serde_json::Value = serde_json::from_str(SUCCEEDED_HISTORY2).unwrap();
    all["Events"].as_array_mut().unwrap().extend(later["Events"].as_array().unwrap().iter().cloned());
    all.as_object_mut().unwrap().remove("NextMarker");
    let get = mock!(Client::get_durable_execution)
        .sequence()
        .http_status(200, Some(running.to_string()))
        .http_status(200, Some(ok(SUCCEEDED_GET)))
        .repeatedly()
        .build();
    let history = mock!(Client::get_durable_execution_history)
        .sequence()
        .http_status(200, Some(early.to_string()))
        .http_status(200, Some(all.to_string()))
        .repeatedly()
        .build();
    let host = Arc::new(RecordingHost::default());
    let done = super::follow::follow(&client(&[&get, &history]), SUCCEEDED_ARN, host.as_ref()).await.unwrap();
    assert_eq!(done.status, "SUCCEEDED");
    let ids: Vec<i32> = host
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ExecutionActivity { activity, .. } => Some(activity.id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_async_start_is_an_event_invocation_with_the_name() {
    let invoke = mock!(Client::invoke)
        .match_requests(|r| {
            r.invocation_type() == Some(&InvocationType::Event) && r.durable_execution_name() == Some("run-1")
        })
        .then_output(|| InvokeOutput::builder().status_code(202).durable_execution_arn(NEWEST_ARN).build());
    let arn =
        api::start(&client(&[&invoke]), "arn:aws:lambda:us-east-1:0:function:f:live", b"{}".to_vec(), Some("run-1"))
            .await
            .unwrap();
    assert_eq!(arn.as_deref(), Some(NEWEST_ARN));
}

#[tokio::test]
async fn a_name_reused_with_another_payload_says_what_to_do() {
    let body = r#"{"__type":"DurableExecutionAlreadyStartedException","message":"already started"}"#;
    let invoke = mock!(Client::invoke).sequence().http_status(409, Some(body.into())).repeatedly().build();
    let error = api::start(&client(&[&invoke]), "f:live", b"{}".to_vec(), Some("run-1")).await.unwrap_err().to_string();
    assert!(error.contains("`run-1`") && error.contains("another `--name`"), "{error}");
}

#[tokio::test]
async fn stopping_returns_when_the_service_stopped_it() {
    let stop = mock!(Client::stop_durable_execution)
        .match_requests(|r| r.durable_execution_arn() == Some(NEWEST_ARN))
        .sequence()
        .http_status(200, Some(r#"{"StopTimestamp": 1795729800.5}"#.into()))
        .repeatedly()
        .build();
    let at = api::stop(&client(&[&stop]), NEWEST_ARN).await.unwrap().unwrap();
    assert_eq!(at.rfc3339(), "2026-11-26T21:50:00.500Z");
}

// Responses in the shapes of the Lambda API reference (GetDurableExecution, GetDurableExecutionHistory,
// ListDurableExecutionsByFunction), not recorded from the local engine: real execution ARNs, epoch-second
// timestamps, opaque markers, three pages, a context with a step inside it (`ParentId`), and a step result the
// service truncated (`Truncated: true`).
pub(crate) const AWS_GET: &str = include_str!("fixtures/aws-get.json");
pub(crate) const AWS_HISTORY: [&str; 3] = [
    include_str!("fixtures/aws-history-page1.json"),
    include_str!("fixtures/aws-history-page2.json"),
    include_str!("fixtures/aws-history-page3.json"),
];
const AWS_LIST: [&str; 3] = [
    include_str!("fixtures/aws-list-page1.json"),
    include_str!("fixtures/aws-list-page2.json"),
    include_str!("fixtures/aws-list-page3.json"),
];
const AWS_FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn:3";
pub(crate) const AWS_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:my-fn:3/durable-execution/my-exec/\
                                  0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const LIST_MARKERS: [&str; 2] = ["AAEAAf9saXN0LW1hcmtlci0y", "AAEAAf9saXN0LW1hcmtlci0z"];
const HISTORY_MARKERS: [&str; 2] = ["AAEAAf9aZXhhbXBsZS1tYXJrZXItcGFnZS0y", "AAEAAf9aZXhhbXBsZS1tYXJrZXItcGFnZS0z"];

/// The page a request with `marker` leads to (`None`: the first).
fn markers_of(markers: [&'static str; 2]) -> [Option<&'static str>; 3] {
    [None, Some(markers[0]), Some(markers[1])]
}

/// Three rules, one per page, each answering only the marker that leads to it.
fn aws_list_pages() -> [Rule; 3] {
    let markers = markers_of(LIST_MARKERS);
    std::array::from_fn(|page| {
        let marker = markers[page];
        mock!(Client::list_durable_executions_by_function)
            .match_requests(move |r| r.marker() == marker && r.function_name() == Some(AWS_FUNCTION))
            .sequence()
            .http_status(200, Some(ok(AWS_LIST[page])))
            .repeatedly()
            .build()
    })
}

fn aws_history_pages() -> [Rule; 3] {
    let markers = markers_of(HISTORY_MARKERS);
    std::array::from_fn(|page| {
        let marker = markers[page];
        mock!(Client::get_durable_execution_history)
            .match_requests(move |r| r.marker() == marker && r.durable_execution_arn() == Some(AWS_ARN))
            .sequence()
            .http_status(200, Some(ok(AWS_HISTORY[page])))
            .repeatedly()
            .build()
    })
}

#[tokio::test]
async fn aws_listing_follows_the_markers_across_three_pages_newest_first() {
    let [a, b, c] = aws_list_pages();
    let list = api::list_executions(&client(&[&a, &b, &c]), AWS_FUNCTION, &limit(20)).await.unwrap();
    assert_eq!((a.num_calls(), b.num_calls(), c.num_calls()), (1, 1, 1));
    let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["nightly-0105", "nightly-0104", "nightly-0103", "nightly-0102", "my-exec"]);
    let statuses: Vec<&str> = list.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(statuses, ["RUNNING", "FAILED", "SUCCEEDED", "TIMED_OUT", "SUCCEEDED"]);
    assert_eq!(list[4].arn, AWS_ARN);
    assert_eq!(list[4].started.unwrap().rfc3339(), "2026-11-28T10:00:00.125Z");
    assert_eq!(list[4].duration_ms, Some(4_875));
    assert_eq!(list[0].duration_ms, None, "a running execution has no end yet");
}

#[tokio::test]
async fn aws_listing_stops_reading_pages_once_the_limit_is_met() {
    let [a, b, c] = aws_list_pages();
    let client = client(&[&a, &b, &c]);
    let three = api::list_executions(&client, AWS_FUNCTION, &limit(3)).await.unwrap();
    assert_eq!(
        three.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["nightly-0105", "nightly-0104", "nightly-0103"]
    );
    assert_eq!((a.num_calls(), b.num_calls(), c.num_calls()), (1, 1, 0), "the third page is not needed");
    let one = api::list_executions(&client, AWS_FUNCTION, &limit(1)).await.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(api::resolve(&client, AWS_FUNCTION, &Selector::Latest).await.unwrap(), one[0].arn);
}

#[tokio::test]
async fn aws_names_resolve_to_their_full_execution_arn() {
    let by_name = mock!(Client::list_durable_executions_by_function)
        .match_requests(|r| r.durable_execution_name() == Some("my-exec"))
        .sequence()
        .http_status(200, Some(ok(AWS_LIST[2])))
        .repeatedly()
        .build();
    let arn = api::resolve(&client(&[&by_name]), AWS_FUNCTION, &Selector::parse("my-exec").unwrap()).await.unwrap();
    assert_eq!(arn, AWS_ARN);
    assert_eq!(Selector::parse(AWS_ARN).unwrap(), Selector::Arn(AWS_ARN.into()));
}

#[tokio::test]
async fn aws_history_is_read_across_three_pages_in_event_order() {
    let [a, b, c] = aws_history_pages();
    let events = api::history(&client(&[&a, &b, &c]), AWS_ARN).await.unwrap();
    assert_eq!((a.num_calls(), b.num_calls(), c.num_calls()), (1, 1, 1));
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    let step = &events[3];
    assert_eq!((step.event_type.as_str(), step.name.as_deref()), ("StepSucceeded", Some("load_orders")));
    assert!(step.truncated, "{step:?}");
    assert_eq!(step.parent_id.as_deref(), Some(events[1].operation_id.as_deref().unwrap()));
    assert!(!events[7].truncated);
    assert_eq!(events[5].target.as_deref(), Some("arn:aws:lambda:us-east-1:123456789012:function:pricer:live"));
    let invocation = events[6].invocation.as_ref().unwrap();
    assert_eq!(invocation.request_id.as_deref(), Some("c0ffee00-1111-4222-8333-444455556666"));
    assert_eq!(invocation.started.unwrap().until(invocation.ended), Some(550));
    let get = mock!(Client::get_durable_execution)
        .match_requests(|r| r.durable_execution_arn() == Some(AWS_ARN))
        .sequence()
        .http_status(200, Some(ok(AWS_GET)))
        .repeatedly()
        .build();
    let execution = api::get_execution(&client(&[&get]), AWS_ARN).await.unwrap();
    assert_eq!((execution.name.as_str(), execution.status.as_str()), ("my-exec", "SUCCEEDED"));
    assert_eq!(execution.duration_ms, Some(4_875));
}

/// Lambda's Invoke API behind a connection that breaks once: the first request is accepted (the execution
/// starts) and the connection then drops before the answer, as a reset or a load balancer's idle close does. The
/// service keeps Lambda's rule for durable starts: a start under a name it already holds, with the same payload, is
/// that execution; a start without a name is always a new one. Every attempt the SDK sends reaches it, so the test
/// sees the SDK's own retries (standard mode, the deployer's retry configuration).
#[derive(Debug, Default)]
pub(crate) struct DroppingLambda {
    state: std::sync::Mutex<DroppingState>,
}

#[derive(Debug, Default)]
struct DroppingState {
    /// The execution name of each request received, in order.
    requests: Vec<Option<String>>,
    /// Executions started: name (if any), payload, ARN.
    executions: Vec<(Option<String>, Vec<u8>, String)>,
    /// Whether the one connection drop already happened.
    dropped: bool,
}

impl DroppingLambda {
    /// The execution name of each request that arrived.
    pub(crate) fn requests(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The ARNs of the executions the service started.
    pub(crate) fn executions(&self) -> Vec<String> {
        self.state.lock().unwrap().executions.iter().map(|(_, _, arn)| arn.clone()).collect()
    }

    /// A Lambda client that sends its requests here, with the deployer's retry configuration.
    pub(crate) fn client(self: &Arc<Self>) -> Client {
        use aws_smithy_runtime_api::client::http::{SharedHttpConnector, http_client_fn};
        let service = self.clone();
        let http = http_client_fn(move |_, _| SharedHttpConnector::new(Connection(service.clone())));
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_lambda::config::Credentials::new("AKIDEXAMPLE", "secret", None, None, "t"))
            .retry_config(crate::aws::retry_config())
            .http_client(http)
            .build();
        Client::from_conf(config)
    }
}

#[derive(Debug)]
struct Connection(Arc<DroppingLambda>);

impl aws_smithy_runtime_api::client::http::HttpConnector for Connection {
    fn call(
        &self,
        request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        use aws_smithy_runtime_api::client::http::HttpConnectorFuture;
        use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        use aws_smithy_types::body::SdkBody;
        let name = request.headers().get("X-Amz-Durable-Execution-Name").map(str::to_owned);
        let payload = request.body().bytes().unwrap_or_default().to_vec();
        let event = request.headers().get("X-Amz-Invocation-Type") == Some("Event");
        let mut state = self.0.state.lock().unwrap();
        state.requests.push(name.clone());
        let existing = state.executions.iter().find(|(n, p, _)| name.is_some() && *n == name && *p == payload);
        let arn = if let Some((_, _, arn)) = existing {
            arn.clone()
        } else {
            let arn = format!(
                "arn:aws:lambda:us-east-1:123456789012:function:app-Orchestrator-1:1/durable-execution/{}/{}",
                name.clone().unwrap_or_else(|| format!("unnamed-{}", state.executions.len())),
                state.executions.len()
            );
            state.executions.push((name, payload, arn.clone()));
            arn
        };
        if !state.dropped {
            state.dropped = true;
            let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
            return HttpConnectorFuture::ready(Err(ConnectorError::io(reset.into())));
        }
        let (status, body) = if event { (202, "") } else { (200, r#"{"statusCode": 200}"#) };
        let mut response = HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body.to_owned()));
        response.headers_mut().insert("Content-Type", "application/json");
        response.headers_mut().insert("X-Amz-Durable-Execution-Arn", arn);
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// The request reached the service and started the execution, then the connection dropped: the SDK retries, under
/// the same generated name, and the service answers with the execution it already started. One execution, whose
/// ARN `start` returns.
#[tokio::test(start_paused = true)]
async fn a_start_retried_after_the_connection_dropped_starts_one_execution() {
    let service = Arc::new(DroppingLambda::default());
    let name = api::generated_name();
    let arn = api::start(&service.client(), "app-Orchestrator-1:live", br#"{"values": [1]}"#.to_vec(), Some(&name))
        .await
        .unwrap();
    let requests = service.requests();
    assert_eq!(requests.len(), 2, "the SDK retried the dropped request once: {requests:?}");
    assert!(requests.iter().all(|n| n.as_deref() == Some(name.as_str())), "every attempt carries the name");
    assert_eq!(service.executions(), [arn.clone().unwrap()], "one execution, and start returns it");
}

#[test]
fn generated_names_are_valid_and_differ() {
    let (a, b) = (api::generated_name(), api::generated_name());
    assert!(api::is_execution_name(&a) && a.starts_with("invoke-"), "{a}");
    assert_ne!(a, b);
}

#[tokio::test]
async fn a_recorded_history_read_through_the_sdk_rebuilds_the_execution_s_operations() {
    let [first, second] = succeeded_history_pages();
    let events = api::recorded_history(&client(&[&first, &second]), SUCCEEDED_ARN).await.unwrap();
    // Milliseconds, as the local target keeps them (the API sends epoch seconds with a fraction).
    assert_eq!(events[0].event_timestamp, 1_795_729_226_614);
    let operations = local::engine::history::operations(&events);
    let identities: Vec<(String, Option<&str>, String)> = operations
        .iter()
        .map(|op| (format!("{:?}", op.operation_type), op.name.as_deref(), format!("{:?}", op.status)))
        .collect();
    assert_eq!(
        identities,
        [
            ("Execution".to_owned(), None, "Succeeded".to_owned()),
            ("Step".to_owned(), Some("prepare_input"), "Succeeded".to_owned()),
            ("ChainedInvoke".to_owned(), Some("invoke_processor"), "Succeeded".to_owned()),
        ]
    );
    let input = operations[0].execution_details.as_ref().and_then(|d| d.input_payload.as_deref());
    assert_eq!(input, Some(r#"{"values": [10, 20, 30, 40, 50]}"#));
    let step = operations[1].step_details.as_ref().and_then(|d| d.result.as_deref()).unwrap();
    assert!(step.contains(r#""operation": "sum_and_average""#), "{step}");
    let invoked = operations[2].chained_invoke_details.as_ref().and_then(|d| d.result.as_deref()).unwrap();
    assert!(invoked.contains(r#""sum": 150"#), "{invoked}");
}
