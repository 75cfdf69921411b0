//! One JSON object per line on stdout, for programs.

use std::io::Write;

use super::{Event, Host};

/// Prints each event as a JSON line with its code and level.
#[derive(Debug, Default)]
pub(crate) struct JsonHost;

impl Host for JsonHost {
    fn notify(&self, event: Event) {
        let mut value = serde_json::to_value(&event).unwrap_or(serde_json::Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert("code".into(), event.code().into());
            object.insert("level".into(), serde_json::to_value(event.level()).unwrap_or_default());
        }
        let _ = writeln!(std::io::stdout().lock(), "{value}");
    }

    fn confirm(&self, _question: &str) -> Option<bool> {
        None
    }
}
