//! This project's app: the stacks `deployer.toml` names, written with the `constructs` library.
//!
//! - [`pattern`]: the durable-invoke-lambda pattern (a durable orchestrator invoking a plain processor), construct
//!   id `Pattern`, what commands act on when given no stack.
//! - [`orders`]: the example app, a queue-triggered durable order workflow written with the library's L2
//!   constructs (construct id `Orders`); deployed when named (`up Orders`).
//!
//! The binary (`src/main.rs`) is the app the deployer runs: [`app`] adds the stacks, [`constructs::App::run`]
//! writes them as a cloud assembly. A project that starts from this one adds its own stacks here and its functions
//! in `functions/`.

pub mod orders;
pub mod pattern;

use constructs::{App, SynthError};

/// Adds the app's stacks to `app`: the pattern's, then the example order workflow's.
///
/// # Examples
///
/// ```
/// let mut app = constructs::App::new();
/// stacks::app(&mut app)?;
/// let assembly = app.synth()?;
/// assert_eq!(assembly.stacks[0].stack_name, "durable-invoke-lambda");
/// assert_eq!(assembly.stacks[1].stack_name, "durable-orders");
/// # Ok::<(), constructs::SynthError>(())
/// ```
pub fn app(app: &mut App) -> Result<(), SynthError> {
    let pattern = pattern::stack(app)?;
    app.add_stack(pattern)?;
    let orders = orders::stack(app)?;
    app.add_stack(orders)?;
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
    fn invalid_environment_values_are_errors_naming_the_construct_or_the_value() {
        let err = app(&mut with_values(serde_json::json!({"log-retention-days": 15}))).unwrap_err().to_string();
        assert!(err.starts_with("Pattern/ProcessorLogGroup: "), "{err}");
        let err = app(&mut with_values(serde_json::json!({"log-retention-days": "long"}))).unwrap_err().to_string();
        assert!(err.contains("`log-retention-days`") && err.contains("dev"), "{err}");
    }
}
