//! How the deployer talks to its user: core code reports typed [`Event`]s to a [`Host`] and never prints.
//!
//! Three hosts: [`tty::TtyHost`] (progress bar, for a person at a terminal), [`plain::PlainHost`] (timestamped lines,
//! for CI logs and pipes) and [`json::JsonHost`] (one JSON object per line on stdout, for programs).

pub(crate) mod durable;
pub(crate) mod json;
pub(crate) mod message;
pub(crate) mod plain;
#[cfg(test)]
mod tests;
pub(crate) mod text;
pub(crate) mod tty;

use std::io::IsTerminal;
use std::sync::Arc;

pub(crate) use message::{Event, HotswappedFunction, Level};

/// Where events go. Implementations decide the rendering; callers decide only what happened.
pub(crate) trait Host: Send + Sync {
    /// Reports something that happened.
    fn notify(&self, event: Event);

    /// Asks a yes/no question. `None` means nobody can be asked (not a terminal, CI, JSON output).
    fn confirm(&self, question: &str) -> Option<bool>;
}

/// Which host to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputMode {
    /// Live progress for a terminal.
    Tty,
    /// Timestamped lines.
    Plain,
    /// JSON lines on stdout.
    Json,
}

impl OutputMode {
    /// Picks the mode: JSON when asked, the live view only on a terminal outside CI and when not verbose.
    pub(crate) fn detect(json: bool, verbose: bool) -> Self {
        if json {
            Self::Json
        } else if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() && !verbose {
            Self::Tty
        } else {
            Self::Plain
        }
    }
}

/// Builds the host for a mode.
pub(crate) fn host(mode: OutputMode) -> Arc<dyn Host> {
    match mode {
        OutputMode::Tty => Arc::new(tty::TtyHost::new()),
        OutputMode::Plain => Arc::new(plain::PlainHost::new()),
        OutputMode::Json => Arc::new(json::JsonHost),
    }
}

/// A host that records events, for tests.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RecordingHost {
    events: std::sync::Mutex<Vec<Event>>,
    /// What `confirm` answers.
    pub(crate) answer: Option<bool>,
}

#[cfg(test)]
impl RecordingHost {
    /// The events seen so far.
    pub(crate) fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
impl Host for RecordingHost {
    fn notify(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }

    fn confirm(&self, _question: &str) -> Option<bool> {
        self.answer
    }
}
