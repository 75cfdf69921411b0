//! The suites, each a module with one `run` returning its figures.

pub mod build;
pub mod edit_serving;
pub mod functions;
pub mod incremental_up;
pub mod local;
pub mod noop_up;

use std::path::PathBuf;

use crate::env::workspace_root;
use crate::error::{Error, Result};
use crate::stats::Figure;

/// Every suite, in the order `all` runs them.
pub const ALL: [&str; 6] = ["functions", "noop-up", "incremental-up", "edit-serving", "local", "build"];

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Runs per figure.
    pub runs: usize,
    /// Runs per figure of the suites that compile (`incremental-up`, `edit-serving`, `build`); `runs` when not given.
    pub build_runs: Option<usize>,
    /// Where the JSON report goes.
    pub json_out: PathBuf,
    /// Also time cold builds.
    pub cold: bool,
    /// The deployer binary, when given.
    pub deployer: Option<PathBuf>,
    /// `local`: executions per load level.
    pub requests: usize,
    /// `local`: clients of the concurrent level.
    pub concurrency: usize,
    /// `local`: ms between two polls of dex for the end of an execution.
    pub dex_poll_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runs: 5,
            build_runs: None,
            json_out: workspace_root().join("target/bench/latest.json"),
            cold: false,
            deployer: None,
            requests: 50,
            concurrency: 16,
            dex_poll_ms: 5,
        }
    }
}

impl Options {
    /// Runs per figure for the suites that compile.
    pub fn compiling_runs(&self) -> usize {
        self.build_runs.unwrap_or(self.runs)
    }
}

/// Runs the suite called `name`.
pub fn run(name: &str, options: &Options) -> Result<Vec<Figure>> {
    match name {
        "functions" => functions::run(options.runs),
        "noop-up" => noop_up::run(options),
        "incremental-up" => incremental_up::run(options),
        "edit-serving" => edit_serving::run(options),
        "local" => local::run(options),
        "build" => build::run(options),
        other => Err(Error::msg(format!("unknown suite `{other}`"))),
    }
}
