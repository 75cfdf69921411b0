//! This project's app: the stacks `deployer.toml` names, written with the `constructs` library.
//!
//! - [`pattern`]: the durable-invoke-lambda pattern (a durable orchestrator invoking a plain processor), construct
//!   id `Pattern`, what commands act on when given no stack.
//!
//! The binary (`src/main.rs`) is the app the deployer runs: [`app`] adds the stacks, [`constructs::App::run`]
//! writes them as a cloud assembly. A project that starts from this one adds its own stacks here and its functions
//! in `functions/`.

pub mod pattern;

use constructs::{App, Architecture, SynthError};

/// Days the functions' log groups keep events unless the environment says otherwise.
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 14;
/// The environment value that sets the functions' log retention, in days.
pub const LOG_RETENTION_VALUE: &str = "log-retention-days";

/// What the app's stacks read from the app: the functions' architecture and the environment's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Instruction set of every function.
    pub architecture: Architecture,
    /// `RetentionInDays` of every function's log group (one of the values CloudWatch Logs accepts).
    pub log_retention_days: u32,
}

impl Settings {
    /// The settings `app` carries: its architecture, and the environment's `log-retention-days` (default 14).
    pub fn of(app: &App) -> Result<Self, SynthError> {
        Ok(Self {
            architecture: app.architecture(),
            log_retention_days: app.value(LOG_RETENTION_VALUE, DEFAULT_LOG_RETENTION_DAYS)?,
        })
    }
}

/// Adds the app's stacks to `app`: the pattern's.
///
/// # Examples
///
/// ```
/// let mut app = constructs::App::new();
/// stacks::app(&mut app)?;
/// let assembly = app.synth()?;
/// assert_eq!(assembly.stacks[0].stack_name, "durable-invoke-lambda");
/// # Ok::<(), constructs::SynthError>(())
/// ```
pub fn app(app: &mut App) -> Result<(), SynthError> {
    let pattern = pattern::stack(app)?;
    app.add_stack(pattern)?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use constructs::{AppContext, Environment};

    use super::*;

    fn with_values(values: serde_json::Value) -> App {
        let values = serde_json::from_value(values).unwrap();
        App::with_context(AppContext {
            environment: Environment { name: Some("dev".into()), values, ..Environment::default() },
            ..AppContext::default()
        })
    }

    #[test]
    fn invalid_settings_are_errors_naming_the_construct_or_the_value() {
        let err = app(&mut with_values(serde_json::json!({"log-retention-days": 15}))).unwrap_err().to_string();
        assert!(err.starts_with("Pattern/ProcessorLogGroup: "), "{err}");
        let err = app(&mut with_values(serde_json::json!({"log-retention-days": "long"}))).unwrap_err().to_string();
        assert!(err.contains("`log-retention-days`") && err.contains("dev"), "{err}");
    }

    #[test]
    fn settings_default_to_arm64_and_two_weeks() {
        let settings = Settings::of(&App::new()).unwrap();
        assert_eq!(settings, Settings { architecture: Architecture::Arm64, log_retention_days: 14 });
    }
}
