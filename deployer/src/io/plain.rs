//! Timestamped lines for CI logs and pipes: progress on stderr, results on stdout.

use std::io::Write;

use super::durable::Style;
use super::{Event, Host, Level, text};

/// Prints each event as one timestamped line.
#[derive(Debug, Default)]
pub(crate) struct PlainHost;

impl PlainHost {
    /// A new plain host.
    pub(crate) fn new() -> Self {
        Self
    }
}

/// The wall-clock time of day, UTC, for log lines.
pub(crate) fn clock() -> String {
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

impl Host for PlainHost {
    fn notify(&self, event: Event) {
        // A progress tick repeats what the stack events already said line by line.
        if matches!(event, Event::Progress { .. }) {
            return;
        }
        if event.level() == Level::Result {
            let text = text::render(&event, Style::for_stdout());
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        } else {
            let text = text::render(&event, Style::PLAIN);
            let _ = writeln!(std::io::stderr().lock(), "[{}] {text}", clock());
        }
    }

    fn confirm(&self, _question: &str) -> Option<bool> {
        None
    }
}
