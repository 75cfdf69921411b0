//! The results: a Markdown table on stdout (pasteable into the README) and a JSON file with every sample.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::error::{Context, Result};
use crate::stats::{Figure, number};

/// The machine the figures were measured on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// `nproc`.
    pub cpus: usize,
    /// `lscpu`'s model name.
    pub model: String,
    /// Total memory, MiB.
    pub memory_mib: u64,
    /// `uname -sr`-like kernel text.
    pub kernel: String,
}

impl Machine {
    /// Reads the machine's description from `/proc`.
    pub fn detect() -> Self {
        let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()))
            .unwrap_or_else(|| "unknown".to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_mib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        Self { cpus, model, memory_mib, kernel }
    }

    /// One line: `2 CPUs (Intel ...), 24 GiB, Linux 6.x`.
    pub fn text(&self) -> String {
        format!("{} CPUs ({}), {} MiB RAM, Linux {}", self.cpus, self.model, self.memory_mib, self.kernel)
    }
}

/// `/proc/loadavg`'s first three fields: how busy the shared machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The table: suite, figure, median, spread, p90, n, target and whether it is met.
pub fn table(figures: &[Figure]) -> String {
    let mut out = String::from("| suite | figure | median | spread (min–max) | p90 | n | target | met |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---|---|\n");
    for f in figures {
        let s = f.summary();
        let unit = if f.unit == "count" { String::new() } else { format!(" {}", f.unit) };
        let met = match f.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let spread =
            if f.samples.len() > 1 { format!("{}–{}", number(s.min), number(s.max)) } else { "-".to_owned() };
        let p90 = if f.samples.len() >= 10 { number(s.p90) } else { "-".to_owned() };
        let _ = writeln!(
            out,
            "| {} | {} | {}{unit} | {spread} | {p90} | {} | {} | {met} |",
            f.suite,
            f.name,
            number(s.median),
            f.samples.len(),
            f.target_text()
        );
    }
    out
}

/// The notes under the table: one line per figure that has one.
pub fn notes(figures: &[Figure]) -> String {
    let mut out = String::new();
    for f in figures.iter().filter(|f| !f.note.is_empty()) {
        let _ = writeln!(out, "- {} / {}: {}", f.suite, f.name, f.note);
    }
    out
}

/// Writes the JSON report to `path`, creating its folder.
pub fn write_json(path: &Path, command: &str, machine: &Machine, runs: usize, figures: &[Figure]) -> Result<()> {
    let report = json!({
        "command": command,
        "load_average_at_write": load_average(),
        "machine": {"cpus": machine.cpus, "model": machine.model, "memory_mib": machine.memory_mib, "kernel": machine.kernel},
        "runs": runs,
        "finished_at_unix": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "figures": figures.iter().map(Figure::to_json).collect::<Vec<Value>>(),
    });
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&report).context("cannot serialize the report")?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Goal;

    #[test]
    fn the_table_shows_median_spread_and_the_target_verdict() {
        let figures = vec![
            Figure::new("functions", "cold start processor", "ms", vec![3.0, 4.0, 9.0]).target(Goal::AtMost(10.0)),
            Figure::new("noop-up", "uploads", "count", vec![1.0]).target(Goal::Exactly(0.0)),
        ];
        let text = table(&figures);
        assert!(text.contains("| functions | cold start processor | 4 ms | 3–9 | - | 3 | ≤ 10 | yes |"), "{text}");
        assert!(text.contains("| noop-up | uploads | 1 | - | - | 1 | = 0 | **no** |"), "{text}");
    }
}
