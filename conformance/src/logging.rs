//! Log lines as flat JSON objects, the shape CloudWatch's execution-scoped retrieval matches.
//!
//! The suite's log checks (`ExpectedLogs`) fetch a function's records with the filter
//! `{ ($.durableExecutionArn = "<arn>") || ($.executionArn = "<arn>") }` and then match top-level fields such as
//! `message`. The SDK puts `executionArn` on the spans it opens around the handler and each step body
//! (`aws_durable_execution_sdk::observability`), but `tracing-subscriber`'s JSON formatter, which
//! `lambda_runtime::tracing::init_default_subscriber` uses, nests span fields under `span`/`spans` and the
//! message under `fields`, where that filter cannot see them. This layer writes one object per event instead:
//! `timestamp` and `level`, the fields of every enclosing span (innermost wins), then the event's own fields,
//! all at the top level, as Lambda's JSON log format does for the runtimes that support it natively.

use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Fields collected from a span or an event, by name.
#[derive(Debug, Default, Clone)]
pub struct Fields(pub Map<String, Value>);

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().to_owned(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `message` arrives as `fmt::Arguments`, whose Debug output is the formatted text itself.
        self.0.insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

/// The flat-JSON layer; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJson;

impl<S> Layer<S> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // The SDK re-records `isReplay` as the invocation crosses its replay high-water mark.
        if let Some(span) = ctx.span(id) {
            let mut extensions = span.extensions_mut();
            if let Some(fields) = extensions.get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut record = Map::new();
        record.insert("timestamp".into(), Value::from(timestamp()));
        record.insert("level".into(), Value::from(event.metadata().level().as_str()));
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<Fields>() {
                    record.extend(fields.0.clone());
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        record.extend(fields.0);
        write_line(&Value::Object(record));
    }
}

/// Writes one JSON object as one line of standard output and flushes it, so a line logged just before a
/// deliberate crash still reaches the log.
pub fn write_line(record: &Value) {
    let mut line = record.to_string();
    line.push('\n');
    let mut out = std::io::stdout().lock();
    // A log line that cannot be written has nowhere else to go.
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// Now, as Lambda writes it in JSON logs: `2026-01-01T00:00:00.000Z`.
pub fn timestamp() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// Installs the process's subscriber: [`FlatJson`] at the configured level and, for the plugin requirements that
/// use it, the [`LifecycleProbe`](crate::plugin::LifecycleProbe), which must see the SDK's `DEBUG` lifecycle
/// events whatever that level is. Does nothing if a subscriber is already installed.
pub fn init(probe: bool) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let lines = FlatJson.with_filter(level_filter());
    let probe = probe.then(|| {
        crate::plugin::LifecycleProbe.with_filter(
            tracing_subscriber::filter::Targets::new().with_target("aws_durable_execution_sdk", tracing::Level::DEBUG),
        )
    });
    let _ = tracing_subscriber::registry().with(lines).with(probe).try_init();
}

/// The level filter Lambda's advanced logging controls ask for: `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else
/// `INFO`.
pub fn level_filter() -> tracing_subscriber::EnvFilter {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_default();
    let level = if level.is_empty() { "info".to_owned() } else { level.to_lowercase() };
    tracing_subscriber::EnvFilter::try_new(&level).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::timestamp;

    #[test]
    fn timestamps_have_lambdas_shape() {
        let t = timestamp();
        assert_eq!(t.len(), "2026-01-01T00:00:00.000Z".len(), "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
