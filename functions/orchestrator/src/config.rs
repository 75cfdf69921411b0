//! Start-up configuration, read once when the Lambda runtime starts.

use crate::error::OrchestratorError;

/// Environment variable naming the function the orchestrator invokes (its
/// name, ARN, or qualified ARN).
pub const PROCESSOR_FUNCTION_ENV: &str = "PROCESSOR_FUNCTION_NAME";

/// Reads the processor function's name from `lookup` (the process
/// environment in `main`).
///
/// # Errors
///
/// [`OrchestratorError::MissingSetting`] when the variable is unset or
/// blank, naming the variable.
pub fn processor_function(lookup: impl Fn(&str) -> Option<String>) -> Result<String, OrchestratorError> {
    lookup(PROCESSOR_FUNCTION_ENV)
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .ok_or(OrchestratorError::MissingSetting { name: PROCESSOR_FUNCTION_ENV })
}

#[cfg(test)]
mod tests {
    use super::{PROCESSOR_FUNCTION_ENV, processor_function};

    #[test]
    fn reads_the_processor_function_name() {
        let found = processor_function(|name| (name == PROCESSOR_FUNCTION_ENV).then(|| "processor-fn".to_owned()));
        assert_eq!(found.ok().as_deref(), Some("processor-fn"));
    }

    #[test]
    fn missing_or_blank_names_the_variable() {
        for value in [None, Some(String::new()), Some("  ".to_owned())] {
            let err = processor_function(|_| value.clone()).err().map(|e| e.to_string());
            let message = err.unwrap_or_default();
            assert!(message.contains("PROCESSOR_FUNCTION_NAME"), "message must name the variable: {message}");
        }
    }
}
