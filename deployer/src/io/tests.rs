//! Timelines and tables built from the recorded histories: operation order, invocations between operations,
//! a failed execution's error first, aligned columns, truncation on a terminal against whole values in JSON, colours.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

use aws_sdk_lambda::operation::get_durable_execution::GetDurableExecutionOutput;
use aws_sdk_lambda::operation::get_durable_execution_history::GetDurableExecutionHistoryOutput;
use aws_sdk_lambda::operation::list_durable_executions_by_function::ListDurableExecutionsByFunctionOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};

use super::durable::{self as render, Style};
use crate::durable::convert;
use crate::durable::model::{ExecutionDetail, ExecutionSummary, HistoryEvent};
use crate::durable::tests::{
    FAILED_GET, FAILED_HISTORY, LIST_PAGE1, LIST_PAGE2, SUCCEEDED_GET, SUCCEEDED_HISTORY1, SUCCEEDED_HISTORY2,
};
use crate::durable::timeline::{InvocationOutcome, Row, timeline};
use crate::io::Event;

/// Lets the real SDK deserialize a recorded body, through a mocked client.
async fn execution(body: &str) -> ExecutionDetail {
    let body = body.to_owned();
    let rule = mock!(aws_sdk_lambda::Client::get_durable_execution).sequence().http_status(200, Some(body)).build();
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
    let output: GetDurableExecutionOutput =
        client.get_durable_execution().durable_execution_arn("a/b").send().await.unwrap();
    convert::detail(&output)
}

async fn events(pages: &[&str]) -> Vec<HistoryEvent> {
    let mut out = Vec::new();
    for page in pages {
        let body = (*page).to_owned();
        let rule = mock!(aws_sdk_lambda::Client::get_durable_execution_history)
            .sequence()
            .http_status(200, Some(body))
            .build();
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        let output: GetDurableExecutionHistoryOutput =
            client.get_durable_execution_history().durable_execution_arn("a/b").send().await.unwrap();
        out.extend(output.events().iter().map(convert::history_event));
    }
    out
}

async fn listed() -> Vec<ExecutionSummary> {
    let mut out = Vec::new();
    for page in [LIST_PAGE1, LIST_PAGE2] {
        let rule = mock!(aws_sdk_lambda::Client::list_durable_executions_by_function)
            .sequence()
            .http_status(200, Some(page.to_owned()))
            .build();
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        let output: ListDurableExecutionsByFunctionOutput =
            client.list_durable_executions_by_function().function_name("f").send().await.unwrap();
        out.extend(output.durable_executions().iter().map(convert::summary));
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.started));
    out
}

async fn succeeded() -> (ExecutionDetail, Vec<Row>) {
    let execution = execution(SUCCEEDED_GET).await;
    let rows = timeline(&events(&[SUCCEEDED_HISTORY1, SUCCEEDED_HISTORY2]).await, execution.is_done());
    (execution, rows)
}

async fn failed() -> (ExecutionDetail, Vec<Row>) {
    let execution = execution(FAILED_GET).await;
    let rows = timeline(&events(&[FAILED_HISTORY]).await, execution.is_done());
    (execution, rows)
}

const PROCESSOR_RESULT: &str =
    r#"{"operation": "sum_and_average", "count": 5, "sum": 150, "average": 30.0, "max": 50, "min": 10}"#;

#[tokio::test]
async fn operations_come_in_order_with_the_invocations_between_them() {
    let (_, rows) = succeeded().await;
    let summary = summarize(&rows);
    assert_eq!(
        summary,
        [
            "step prepare_input SUCCEEDED",
            "chained_invoke invoke_processor SUCCEEDED",
            "invocation 1 SUSPENDED",
            "invocation 2 COMPLETED"
        ]
    );
    let Row::Operation(step) = &rows[0] else { panic!() };
    assert_eq!((step.attempt, step.duration_ms), (Some(1), Some(31)));
    let Row::Operation(invoke) = &rows[1] else { panic!() };
    assert_eq!(invoke.result.as_deref(), Some(PROCESSOR_RESULT));
    assert_eq!(invoke.attempt, None);
    assert!(invoke.target.as_deref().unwrap().ends_with(":function:durable-invoke-lambda-Processor:1"));
}

#[tokio::test]
async fn a_failed_step_keeps_its_error_and_attempt() {
    let (_, rows) = failed().await;
    let Row::Operation(step) = &rows[0] else { panic!() };
    assert_eq!((step.status.as_str(), step.attempt), ("FAILED", Some(1)));
    assert_eq!(step.error.as_ref().unwrap().error_type.as_deref(), Some("InvalidValues"));
    let Row::Invocation(inv) = &rows[1] else { panic!() };
    assert_eq!(inv.outcome, InvocationOutcome::Completed);
}

#[test]
fn a_retried_step_counts_attempts_and_the_invocation_it_suspended() {
    let event = |id, event_type: &str| HistoryEvent {
        id,
        event_type: event_type.into(),
        operation_id: Some("op".into()),
        name: Some("flaky".into()),
        ..HistoryEvent::default()
    };
    let mut retry = event(3, "StepFailed");
    retry.attempt = Some(1);
    retry.next_attempt_delay_seconds = Some(5);
    let first = vec![
        event(2, "StepStarted"),
        retry,
        HistoryEvent { id: 4, event_type: "InvocationCompleted".into(), ..HistoryEvent::default() },
    ];
    let Row::Operation(op) = &timeline(&first, false)[0] else { panic!() };
    assert_eq!((op.status.as_str(), op.attempt, op.ended), ("PENDING", Some(1), None));
    let mut all = first;
    all.extend([event(5, "StepStarted"), event(6, "StepSucceeded")]);
    let rows = timeline(&all, true);
    let Row::Operation(op) = &rows[0] else { panic!() };
    assert_eq!((op.status.as_str(), op.attempt, op.error.is_none()), ("SUCCEEDED", Some(2), true));
    assert!(matches!(&rows[1], Row::Invocation(inv) if inv.outcome == InvocationOutcome::Suspended));
}

fn column(line: &str, word: &str) -> usize {
    line.find(word).unwrap_or_else(|| panic!("{word} not in {line:?}"))
}

#[tokio::test]
async fn the_executions_table_aligns_name_status_start_and_duration() {
    let text = render::executions("orchestrator", &[], &listed().await, Style::PLAIN);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with("NAME") && lines[0].ends_with("DURATION"), "{text}");
    assert!(
        lines[1].starts_with("rec-seed-2 ")
            && lines[1].contains("2026-11-26 21:49:53 UTC")
            && lines[1].ends_with("207ms")
    );
    assert!(lines[3].starts_with("rec-failed-1 ") && lines[3].contains("FAILED"), "{text}");
    let status = column(lines[0], "STATUS");
    let started = column(lines[0], "STARTED");
    for line in &lines[1..] {
        assert_eq!(line.find("SUCCEEDED").or_else(|| line.find("FAILED")), Some(status), "{text}");
        assert_eq!(column(line, "2026-"), started, "{text}");
    }
    let empty = render::executions("orchestrator", &["RUNNING".into()], &[], Style::PLAIN);
    assert!(empty.contains("no executions of orchestrator with status RUNNING") && empty.contains("deployer invoke"));
}

#[tokio::test]
async fn the_history_table_lists_each_operation_with_its_result() {
    let (execution, rows) = succeeded().await;
    let text = render::history(&execution, &rows, Style::PLAIN);
    assert!(text.starts_with("execution  7b07dd59-8d71-4de0-b52d-4fbcd2c76f44  SUCCEEDED\n"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let header = lines.iter().position(|l| l.starts_with("TYPE")).unwrap();
    let table = &lines[header..];
    assert!(table[1].starts_with("step ") && table[1].contains("prepare_input") && table[1].contains("SUCCEEDED"));
    assert!(
        table[2].starts_with("chained invoke")
            && table[2].contains("invoke_processor")
            && table[2].ends_with(PROCESSOR_RESULT)
    );
    assert!(table[3].starts_with("invocation") && table[3].contains("SUSPENDED") && table[3].contains("suspended"));
    assert!(table[4].contains("#2") && table[4].contains("COMPLETED"), "{text}");
    let result = column(table[0], "RESULT / ERROR");
    assert_eq!(column(table[1], "{\"values\""), result, "{text}");
    assert_eq!(column(table[0], "STATUS"), column(table[2], "SUCCEEDED"));
    assert!(text.contains(" 21:40:26.721 ") && text.contains(" 31ms "), "{text}");
}

#[tokio::test]
async fn a_terminal_gets_truncated_cells_and_json_the_whole_values() {
    let (execution, rows) = succeeded().await;
    let text = render::history(&execution, &rows, Style::terminal(true));
    assert!(!text.contains(PROCESSOR_RESULT), "{text}");
    let cut = text.lines().find(|l| l.contains("invoke_processor")).unwrap();
    let cell = &cut[cut.find("{\"operation\"").unwrap()..];
    assert_eq!(cell.chars().count(), render::TERMINAL_CELL);
    assert!(cell.ends_with('…'));
    let json = serde_json::to_value(Event::History { execution, rows }).unwrap();
    assert_eq!(json["rows"][1]["result"], PROCESSOR_RESULT);
    assert_eq!(json["rows"][1]["kind"], "chained_invoke");
    assert_eq!(json["rows"][2]["row"], "invocation");
    assert_eq!(json["rows"][2]["outcome"], "suspended");
    assert_eq!(json["execution"]["started"], "2026-11-26T21:40:26.614Z");
    assert!(json["execution"]["result"].as_str().unwrap().contains("Durable orchestration completed successfully"));
}

#[tokio::test]
async fn a_failed_execution_shows_its_error_first() {
    let (execution, rows) = failed().await;
    let text = render::history(&execution, &rows, Style::PLAIN);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("error") && first.contains(r#"InvalidValues: "values"[1] must be a finite number"#),
        "{text}"
    );
    let step = text.lines().find(|l| l.contains("prepare_input")).unwrap();
    assert!(step.contains("FAILED") && step.contains("InvalidValues"), "{text}");
    assert!(!text.contains("capture_stack_trace"), "stack traces are for --json: {text}");
    let json = serde_json::to_value(Event::History { execution, rows }).unwrap();
    assert_eq!(json["execution"]["error"]["stack_trace"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn colours_only_when_asked() {
    let (execution, rows) = failed().await;
    let plain = render::history(&execution, &rows, Style::terminal(true));
    assert!(!plain.contains('\x1b'), "NO_COLOR output has escapes: {plain}");
    let coloured = render::history(&execution, &rows, Style::terminal(false));
    assert!(coloured.contains("\x1b[31mFAILED\x1b[0m"), "{coloured}");
    // Colours do not shift the columns.
    let strip = |s: &str| s.replace("\x1b[0m", "").replace("\x1b[31;1m", "").replace("\x1b[1m", "");
    let strip =
        |s: &str| ["31", "32", "33", "36", "2"].iter().fold(strip(s), |s, c| s.replace(&format!("\x1b[{c}m"), ""));
    assert_eq!(strip(&coloured), plain);
}

#[test]
fn durations_read_naturally() {
    assert_eq!(render::duration(31), "31ms");
    assert_eq!(render::duration(1_250), "1.2s");
    assert_eq!(render::duration(123_000), "2m03s");
    assert_eq!(render::duration(3_720_000), "1h02m");
}

#[test]
fn clipping_keeps_one_line() {
    assert_eq!(render::clip("a\nb", None), "a b");
    assert_eq!(render::clip("abcdef", Some(4)), "abc…");
    assert_eq!(render::clip("abcd", Some(4)), "abcd");
}

#[tokio::test]
async fn live_progress_lines_name_the_operation_and_its_outcome() {
    let events = events(&[SUCCEEDED_HISTORY1, SUCCEEDED_HISTORY2]).await;
    let lines: Vec<String> = events.iter().map(render::activity).collect();
    assert_eq!(lines[0], "21:40:26.614  execution started");
    assert_eq!(lines[1], "21:40:26.721  step prepare_input started");
    assert!(lines[3].starts_with("21:40:26.772  chained invoke invoke_processor started → arn:"), "{}", lines[3]);
    assert_eq!(lines[4], "21:40:26.810  invocation ended");
    assert!(lines[5].starts_with("21:40:26.833  chained invoke invoke_processor succeeded: {\"operation\""));
    assert!(lines[7].starts_with("21:40:26.899  execution succeeded: "), "{}", lines[7]);
}

/// An AWS-shaped history (three pages, a step result the service truncated): the table marks that cell as
/// truncated on a terminal and in plain text, JSON carries the flag, and an untruncated result is not marked.
#[tokio::test]
async fn a_result_the_service_truncated_is_shown_as_truncated() {
    use crate::durable::tests::{AWS_GET, AWS_HISTORY};
    let execution = execution(AWS_GET).await;
    let rows = timeline(&events(&AWS_HISTORY).await, execution.is_done());
    let kinds = summarize(&rows);
    assert_eq!(
        kinds,
        [
            "context gather SUCCEEDED",
            "step load_orders SUCCEEDED",
            "chained_invoke price_orders SUCCEEDED",
            "invocation 1 SUSPENDED",
            "invocation 2 COMPLETED"
        ]
    );
    for style in [Style::PLAIN, Style::terminal(true)] {
        let text = render::history(&execution, &rows, style);
        let step = text.lines().find(|l| l.contains("load_orders")).unwrap();
        assert!(step.contains("[truncated by Lambda] {\"orders\": ["), "{text}");
        let invoke = text.lines().find(|l| l.contains("price_orders")).unwrap();
        assert!(invoke.contains("{\"total\": 1234.5}") && !invoke.contains("truncated"), "{text}");
    }
    let json = serde_json::to_value(Event::History { execution, rows }).unwrap();
    assert_eq!(json["rows"][1]["truncated"], true);
    assert!(json["rows"][2].get("truncated").is_none());
    let activity = render::activity(&events(&AWS_HISTORY[1..2]).await[0]);
    assert!(activity.contains("step load_orders succeeded: [truncated by Lambda]"), "{activity}");
}

/// Each row as `kind name STATUS` or `invocation N OUTCOME`.
fn summarize(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(|row| match row {
            Row::Operation(op) => format!("{} {} {}", op.kind, op.name.as_deref().unwrap_or("?"), op.status),
            Row::Invocation(inv) => format!("invocation {} {}", inv.number, inv.outcome.as_status()),
        })
        .collect()
}
