//! The live view for a person at a terminal: a progress bar per stack operation, other lines above it.

use std::io::{BufRead, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::durable::Style;
use super::{Event, Host, Level, text};

/// Draws stack progress as a bar and prints the rest as lines.
pub(crate) struct TtyHost {
    bar: Mutex<Option<ProgressBar>>,
}

impl TtyHost {
    /// A new terminal host.
    pub(crate) fn new() -> Self {
        Self { bar: Mutex::new(None) }
    }

    fn println(&self, text: &str) {
        match self.bar.lock().ok().as_deref() {
            Some(Some(bar)) => bar.println(text),
            _ => eprintln!("{text}"),
        }
    }
}

impl Default for TtyHost {
    fn default() -> Self {
        Self::new()
    }
}

impl Host for TtyHost {
    fn notify(&self, event: Event) {
        match &event {
            Event::Progress { stack, done, total, in_progress } => {
                if let Ok(mut slot) = self.bar.lock() {
                    let bar = slot.get_or_insert_with(|| {
                        let bar = ProgressBar::new(*total as u64);
                        bar.set_style(
                            ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {wide_msg}")
                                .unwrap_or_else(|_| ProgressStyle::default_bar())
                                .progress_chars("=> "),
                        );
                        bar.enable_steady_tick(Duration::from_millis(120));
                        bar
                    });
                    bar.set_prefix(stack.clone());
                    bar.set_length(*total as u64);
                    bar.set_position(*done as u64);
                    bar.set_message(in_progress.join(", "));
                }
            }
            Event::StackDone { .. } => {
                if let Some(bar) = self.bar.lock().ok().and_then(|mut slot| slot.take()) {
                    bar.finish_and_clear();
                }
                self.println(&text::render(&event, Style::PLAIN));
            }
            // Individual events feed the bar; only failures are worth a line of their own.
            Event::StackEvent { status, .. } if !status.contains("FAILED") => {}
            _ if event.level() == Level::Result => {
                let _ = writeln!(std::io::stdout().lock(), "{}", text::render(&event, Style::for_stdout()));
            }
            _ => self.println(&text::render(&event, Style::PLAIN)),
        }
    }

    fn confirm(&self, question: &str) -> Option<bool> {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.suspend(|| ());
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).ok()?;
        Some(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
    }
}
