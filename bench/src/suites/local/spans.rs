//! The engine's own time per command, from the service's log: with `DEPLOYER_LOG=local=debug` and
//! `DEPLOYER_LOG_SPANS=1`, each engine command (`engine.checkpoint`, `engine.start`, ...) is a span that logs one
//! `close time.busy=<t> time.idle=<t>` line (tracing-subscriber's format) when it ends.

use std::collections::BTreeMap;

/// The busy time (ms) of every `engine.*` span closed in `log`, by span name, in order.
pub fn engine_busy_ms(log: &str) -> BTreeMap<String, Vec<f64>> {
    let mut spans: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for line in log.lines() {
        let line = strip_ansi(line);
        let Some((head, timing)) = line.split_once(" close time.busy=") else { continue };
        let Some(busy) = timing.split_whitespace().next().and_then(duration_ms) else { continue };
        // `<time> <LEVEL> <parent>:<span>: <target>: close ...`: the span closing is the last of the context.
        let Some(context) = head.split(": ").next().and_then(|h| h.split_whitespace().last()) else { continue };
        let name = context.rsplit(':').next().unwrap_or(context);
        let name = name.split('{').next().unwrap_or(name);
        if name.starts_with("engine.") {
            spans.entry(name.to_owned()).or_default().push(busy);
        }
    }
    spans
}

/// `512µs`, `1.23ms`, `9.87ns`, `1.00s` in ms.
fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let scale = match unit {
        "ns" => 1e-6,
        "µs" | "us" => 1e-3,
        "ms" => 1.0,
        "s" => 1e3,
        _ => return None,
    };
    Some(value * scale)
}

/// The line without terminal colour sequences (`ESC [ ... m`), which the log has unless `NO_COLOR` is set.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_busy_times_of_engine_spans() {
        let log = "2026-11-27T18:00:00.000001Z DEBUG engine.checkpoint: local::engine: close time.busy=512µs time.idle=3.10µs\n\
                   2026-11-27T18:00:00.000002Z  INFO local::supervisor::daemon: local endpoint listening\n\
                   \u{1b}[2m2026-11-27T18:00:00.000003Z\u{1b}[0m \u{1b}[34mDEBUG\u{1b}[0m \u{1b}[1mengine.start\u{1b}[0m: \
                   \u{1b}[2mlocal::engine\u{1b}[0m: close time.busy=1.25ms time.idle=9.00ns\n\
                   2026-11-27T18:00:00.000004Z DEBUG request{id=1}:engine.checkpoint: local::engine: close time.busy=1.00s time.idle=1µs\n\
                   2026-11-27T18:00:00.000005Z DEBUG other.span: local: close time.busy=1ms time.idle=1µs\n";
        let spans = engine_busy_ms(log);
        assert_eq!(spans.keys().collect::<Vec<_>>(), ["engine.checkpoint", "engine.start"]);
        let close = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9);
        assert!(close(&spans["engine.checkpoint"], &[0.512, 1000.0]), "{spans:?}");
        assert!(close(&spans["engine.start"], &[1.25]), "{spans:?}");
    }
}
