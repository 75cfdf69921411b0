//! Prose for durable executions: aligned tables, with colours and truncated cells only on a terminal.

use std::fmt::Write as _;
use std::io::IsTerminal;

use crate::payloads::executions::{ExecutionDetail, ExecutionSummary, HistoryEvent, Timestamp};
use crate::payloads::timeline::{InvocationOutcome, OperationRow, Row, operation_event};

/// Characters a result, input or error cell keeps on a terminal.
pub(crate) const TERMINAL_CELL: usize = 60;
/// Characters a live progress line keeps of a result or error.
pub(crate) const ACTIVITY_CELL: usize = 80;

/// How to render: colours and cell truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Longest result, input or error cell, in characters; whole when `None`.
    pub max_cell: Option<usize>,
}

impl Style {
    /// No colours, nothing truncated: for pipes and files.
    pub(crate) const PLAIN: Self = Self { color: false, max_cell: None };

    /// For a person at a terminal: cells truncated, colours unless `NO_COLOR` says otherwise.
    pub(crate) fn terminal(no_color: bool) -> Self {
        Self { color: !no_color, max_cell: Some(TERMINAL_CELL) }
    }

    /// For stdout as it is now: a terminal gets [`Style::terminal`] (colours unless `NO_COLOR` is set and not
    /// empty), anything else [`Style::PLAIN`].
    pub(crate) fn for_stdout() -> Self {
        if std::io::stdout().is_terminal() {
            Self::terminal(std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()))
        } else {
            Self::PLAIN
        }
    }

    fn paint(self, code: Option<&str>, text: &str) -> String {
        match code {
            Some(code) if self.color => format!("\x1b[{code}m{text}\x1b[0m"),
            _ => text.to_owned(),
        }
    }

    fn clip(self, text: &str) -> String {
        clip(text, self.max_cell)
    }
}

/// One line of `text` (line breaks become spaces), cut to `max` characters with an ellipsis.
pub(crate) fn clip(text: &str, max: Option<usize>) -> String {
    let flat: String = text.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    match max {
        Some(max) if flat.chars().count() > max => {
            let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
            cut.push('…');
            cut
        }
        _ => flat,
    }
}

/// `31ms`, `1.2s`, `2m03s`, `1h02m`.
pub(crate) fn duration(ms: i64) -> String {
    match ms {
        ..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{}.{}s", ms / 1000, ms % 1000 / 100),
        60_000..3_600_000 => format!("{}m{:02}s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{}h{:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

fn status_color(status: &str) -> Option<&'static str> {
    match status {
        "SUCCEEDED" | "COMPLETED" => Some("32"),
        "FAILED" | "TIMED_OUT" | "STOPPED" | "CANCELLED" => Some("31"),
        "RUNNING" | "STARTED" | "PENDING" => Some("33"),
        "SUSPENDED" => Some("36"),
        _ => None,
    }
}

/// A cell: its text and colour.
struct Cell(String, Option<&'static str>);

fn cell(text: impl Into<String>) -> Cell {
    Cell(text.into(), None)
}

fn status_cell(status: &str) -> Cell {
    Cell(status.to_owned(), status_color(status))
}

/// Columns aligned on the widest cell, two spaces apart; the last column is not padded.
fn table(style: Style, headers: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, Cell(text, _)) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<Cell> = headers.iter().map(|h| Cell((*h).to_owned(), Some("1"))).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, Cell(text, color)) in row.iter().enumerate() {
            let last = i + 1 == row.len();
            let pad = if last { 0 } else { widths.get(i).copied().unwrap_or(0).saturating_sub(text.chars().count()) };
            line.push_str(&style.paint(*color, text));
            line.push_str(&" ".repeat(pad));
            if !last {
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

fn clock(time: Option<Timestamp>) -> String {
    time.map_or_else(|| "-".to_owned(), Timestamp::clock)
}

fn took(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".to_owned(), duration)
}

/// The executions table: name, status, start and duration, newest first.
pub(crate) fn executions(function: &str, statuses: &[String], list: &[ExecutionSummary], style: Style) -> String {
    if list.is_empty() {
        let filter =
            if statuses.is_empty() { String::new() } else { format!(" with status {}", statuses.join(" or ")) };
        return format!("no executions of {function}{filter}: start one with `deployer invoke`");
    }
    let rows: Vec<Vec<Cell>> = list
        .iter()
        .map(|e| {
            vec![
                cell(e.name.clone()),
                status_cell(&e.status),
                cell(e.started.map_or_else(|| "-".to_owned(), |t| format!("{} UTC", t.date_and_time()))),
                cell(if e.status == "RUNNING" { "running".to_owned() } else { took(e.duration_ms) }),
            ]
        })
        .collect();
    table(style, &["NAME", "STATUS", "STARTED", "DURATION"], &rows)
}

/// One execution: its error first when it failed, then what it is, then its operations and invocations in order.
pub(crate) fn history(execution: &ExecutionDetail, rows: &[Row], style: Style) -> String {
    let mut out = String::new();
    if let Some(error) = &execution.error {
        let _ = writeln!(out, "{}  {}", style.paint(Some("31;1"), "error"), clip(&error.summary(), None));
    }
    let _ = writeln!(
        out,
        "execution  {}  {}",
        execution.name,
        style.paint(status_color(&execution.status), &execution.status)
    );
    let _ = writeln!(out, "arn        {}", execution.arn);
    let _ = writeln!(out, "function   {}", execution.function_arn);
    if let Some(started) = execution.started {
        let ran = match execution.duration_ms {
            Some(ms) => format!(", ran {}", duration(ms)),
            None if !execution.is_done() => ", still running".to_owned(),
            None => String::new(),
        };
        let _ = writeln!(out, "started    {} UTC{ran}", started.date_and_time());
    }
    if let Some(input) = &execution.input {
        let _ = writeln!(out, "input      {}", style.clip(input));
    }
    if let Some(result) = &execution.result {
        let _ = writeln!(out, "result     {}", style.clip(result));
    }
    out.push('\n');
    if rows.is_empty() {
        out.push_str("no operations recorded yet");
        return out;
    }
    let cells: Vec<Vec<Cell>> = rows.iter().map(|row| history_row(row, style)).collect();
    out.push_str(&table(style, &["TYPE", "NAME", "STATUS", "ATTEMPT", "START", "DURATION", "RESULT / ERROR"], &cells));
    out
}

/// `step`, `chained invoke`, ...
pub(crate) fn kind_label(kind: &str) -> String {
    kind.replace('_', " ")
}

fn history_row(row: &Row, style: Style) -> Vec<Cell> {
    match row {
        Row::Operation(op) => vec![
            cell(kind_label(&op.kind)),
            cell(op.name.clone().unwrap_or_else(|| op.id.chars().take(12).collect())),
            status_cell(&op.status),
            cell(op.attempt.map_or_else(|| "-".to_owned(), |a| a.to_string())),
            cell(clock(op.started)),
            cell(took(op.duration_ms)),
            operation_detail(op, style),
        ],
        Row::Invocation(inv) => {
            let detail = match (&inv.error, inv.outcome) {
                (Some(error), _) => Cell(style.clip(&error.summary()), Some("31")),
                (None, InvocationOutcome::Suspended) => {
                    Cell(format!("ended {}; the execution suspended", clock(inv.ended)), Some("2"))
                }
                (None, _) => Cell(format!("ended {}; the execution ended", clock(inv.ended)), Some("2")),
            };
            vec![
                Cell("invocation".to_owned(), Some("2")),
                Cell(format!("#{}", inv.number), Some("2")),
                status_cell(inv.outcome.as_status()),
                cell("-"),
                cell(clock(inv.started)),
                cell(took(inv.duration_ms)),
                detail,
            ]
        }
    }
}

/// Put before a result or error the service stored only the start of, so a cut-off value is not read as whole.
pub(crate) const TRUNCATED_MARK: &str = "[truncated by Lambda] ";

fn marked(text: &str, truncated: bool) -> String {
    if truncated { format!("{TRUNCATED_MARK}{text}") } else { text.to_owned() }
}

fn operation_detail(op: &OperationRow, style: Style) -> Cell {
    if let Some(error) = &op.error {
        return Cell(style.clip(&marked(&error.summary(), op.truncated)), Some("31"));
    }
    if let Some(result) = &op.result {
        return cell(style.clip(&marked(result, op.truncated)));
    }
    let pending = match (op.kind.as_str(), &op.target, op.wait_seconds, &op.callback_id) {
        ("chained_invoke", Some(target), _, _) => format!("calling {target}"),
        ("wait", _, Some(seconds), _) => format!("waiting {seconds}s"),
        ("callback", _, _, Some(id)) => format!("callback id {id}"),
        _ => String::new(),
    };
    cell(style.clip(&pending))
}

/// One history event as a progress line, for `invoke --wait`.
pub(crate) fn activity(event: &HistoryEvent) -> String {
    let at = clock(event.at);
    let name = event.name.as_deref().unwrap_or("");
    let detail = match (&event.error, &event.result) {
        (Some(error), _) => format!(": {}", clip(&marked(&error.summary(), event.truncated), Some(ACTIVITY_CELL))),
        (None, Some(result)) => format!(": {}", clip(&marked(result, event.truncated), Some(ACTIVITY_CELL))),
        (None, None) => String::new(),
    };
    if let Some((kind, status)) = operation_event(&event.event_type) {
        let target = event.target.as_deref().map(|t| format!(" → {t}")).unwrap_or_default();
        return format!(
            "{at}  {} {name} {}{target}{detail}",
            kind_label(kind),
            status.to_lowercase().replace('_', " ")
        );
    }
    match event.event_type.as_str() {
        "InvocationCompleted" => format!("{at}  invocation ended{detail}"),
        other => {
            let phase = other.strip_prefix("Execution").unwrap_or(other);
            format!("{at}  execution {}{detail}", phase.to_lowercase())
        }
    }
}
