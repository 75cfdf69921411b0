//! Figures: one measured quantity with its samples, summarized as median and spread, and checked against a target.

use serde_json::{Value, json};

/// A target a figure must meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// The median must be at most this.
    AtMost(f64),
    /// The median must be at least this (throughput ratios).
    AtLeast(f64),
    /// The median must be exactly this (counts: zero uploads).
    Exactly(f64),
}

impl Goal {
    fn met(self, median: f64) -> bool {
        match self {
            Self::AtMost(limit) => median <= limit,
            Self::AtLeast(limit) => median >= limit,
            Self::Exactly(value) => (median - value).abs() < f64::EPSILON,
        }
    }

    fn text(self) -> String {
        match self {
            Self::AtMost(limit) => format!("≤ {}", number(limit)),
            Self::AtLeast(limit) => format!("≥ {}", number(limit)),
            Self::Exactly(value) => format!("= {}", number(value)),
        }
    }
}

/// One measured quantity.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The suite that measured it.
    pub suite: String,
    /// What it is, e.g. `wall time`.
    pub name: String,
    /// `ms`, `s`, `MiB`, `count`, `x`, ...
    pub unit: String,
    /// One value per run (or per request, for latencies).
    pub samples: Vec<f64>,
    /// What it should be.
    pub target: Option<Goal>,
    /// Where it came from or why it is what it is.
    pub note: String,
}

/// Order statistics of a sample set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Middle value.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
}

/// Nearest-rank percentile of sorted values, `q` in 0..=1.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "small counts"
    )]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}

/// Summarizes `samples` (NaN-free).
pub fn summarize(samples: &[f64]) -> Summary {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted.get(n / 2).copied().unwrap_or(f64::NAN),
        n => f64::midpoint(
            sorted.get(n / 2 - 1).copied().unwrap_or(f64::NAN),
            sorted.get(n / 2).copied().unwrap_or(f64::NAN),
        ),
    };
    Summary {
        median,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        p90: percentile(&sorted, 0.90),
        p99: percentile(&sorted, 0.99),
    }
}

impl Figure {
    /// A figure without target or note.
    pub fn new(suite: &str, name: impl Into<String>, unit: &str, samples: Vec<f64>) -> Self {
        Self {
            suite: suite.to_owned(),
            name: name.into(),
            unit: unit.to_owned(),
            samples,
            target: None,
            note: String::new(),
        }
    }

    /// Sets the target.
    #[must_use]
    pub fn target(mut self, target: Goal) -> Self {
        self.target = Some(target);
        self
    }

    /// Sets the note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// The summary of the samples.
    pub fn summary(&self) -> Summary {
        summarize(&self.samples)
    }

    /// Whether the median meets the target (`None` without one or without samples).
    pub fn met(&self) -> Option<bool> {
        let median = self.summary().median;
        self.target.filter(|_| !median.is_nan()).map(|t| t.met(median))
    }

    /// The target as text, `-` without one.
    pub fn target_text(&self) -> String {
        self.target.map_or_else(|| "-".to_owned(), Goal::text)
    }

    /// The figure as JSON, with its summary and every sample.
    pub fn to_json(&self) -> Value {
        let s = self.summary();
        let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
        json!({
            "suite": self.suite,
            "name": self.name,
            "unit": self.unit,
            "n": self.samples.len(),
            "median": finite(s.median),
            "min": finite(s.min),
            "max": finite(s.max),
            "p90": finite(s.p90),
            "p99": finite(s.p99),
            "samples": self.samples,
            "target": self.target.map(Goal::text),
            "met": self.met(),
            "note": self.note,
        })
    }
}

/// A number with as few digits as its size needs.
pub fn number(value: f64) -> String {
    if value.is_nan() {
        "-".to_owned()
    } else if (value.fract() == 0.0 && value.abs() < 1e12) || value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_percentiles() {
        let s = summarize(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert!((s.median - 3.0).abs() < f64::EPSILON);
        assert!((s.min - 1.0).abs() < f64::EPSILON && (s.max - 5.0).abs() < f64::EPSILON);
        assert!((s.p90 - 5.0).abs() < f64::EPSILON);
        let even = summarize(&[1.0, 2.0, 3.0, 4.0]);
        assert!((even.median - 2.5).abs() < f64::EPSILON);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((summarize(&hundred).p99 - 99.0).abs() < f64::EPSILON);
    }

    #[test]
    fn targets_are_checked_on_the_median() {
        let f = Figure::new("s", "n", "ms", vec![1.0, 2.0, 30.0]).target(Goal::AtMost(2.0));
        assert_eq!(f.met(), Some(true));
        let zero = Figure::new("s", "n", "count", vec![0.0, 1.0, 1.0]).target(Goal::Exactly(0.0));
        assert_eq!(zero.met(), Some(false));
        assert_eq!(Figure::new("s", "n", "ms", vec![]).target(Goal::AtMost(1.0)).met(), None);
        let ratio = Figure::new("s", "n", "x", vec![9.0, 12.0, 15.0]).target(Goal::AtLeast(10.0));
        assert_eq!((ratio.met(), ratio.target_text().as_str()), (Some(true), "≥ 10"));
    }
}
