//! This project's app: the bootstrap stack (the asset bucket), the durable-invoke-lambda pattern stack, the
//! conformance stacks and the deployer's test fixture.
//!
//! The deployer calls [`app`] and nothing else: adding a function is a change here and a crate in `functions/`.
//! Commands act on the pattern's stack unless told otherwise ([`DEFAULT_STACK_ID`]); the others are chosen by
//! name or construct id.

pub mod bootstrap;
pub mod conformance;
pub mod execution_policy;
pub mod fixture;
pub mod pattern;

use serde::{Deserialize, Serialize};

use crate::construct::App;
use crate::error::SynthError;
pub use crate::resources::lambda::Architecture;

/// Stack name of the pattern stack unless configured otherwise.
pub const DEFAULT_STACK_NAME: &str = "durable-invoke-lambda";
/// Construct id of the stack commands act on when given no stack: the pattern's.
pub const DEFAULT_STACK_ID: &str = pattern::STACK_ID;
/// Days the functions' log groups keep events unless configured otherwise.
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 14;

/// What a user may choose about the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// CloudFormation name of the pattern stack.
    pub stack_name: String,
    /// Instruction set of every function.
    pub architecture: Architecture,
    /// `RetentionInDays` of every function's log group (one of the values CloudWatch Logs accepts).
    pub log_retention_days: u32,
    /// The bootstrap qualifier: which bootstrap stack the app deploys with ([`crate::qualifier`]).
    pub qualifier: String,
    /// Managed policy ARNs for the bootstrap's CloudFormation execution role; none: its default policy.
    pub execution_policies: Vec<String>,
    /// App stacks deployed earlier with the bootstrap, which its default execution policy keeps covering.
    pub covered_stacks: Vec<String>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            stack_name: DEFAULT_STACK_NAME.to_owned(),
            architecture: Architecture::Arm64,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            qualifier: crate::qualifier::DEFAULT_QUALIFIER.to_owned(),
            execution_policies: Vec::new(),
            covered_stacks: Vec::new(),
        }
    }
}

/// The project's app: the bootstrap stack, the pattern stack named `config.stack_name`, the fixture stack, then
/// one conformance stack per suite. Every app stack deploys with the bootstrap of `config.qualifier`, which is
/// derived from them (the permissions boundary and the default execution policy cover what they hold).
///
/// # Examples
///
/// ```
/// use stacks::{AppConfig, AssetManifest, app::app};
/// let app = app(&AppConfig::default())?;
/// let mut manifest = AssetManifest::new();
/// for asset in app.assets() {
///     manifest.insert(asset.id, "0".repeat(64));
/// }
/// let assembly = app.synth(&manifest)?;
/// assert_eq!(assembly.stacks[0].stack_name, stacks::bootstrap::STACK_NAME);
/// # Ok::<(), stacks::SynthError>(())
/// ```
pub fn app(config: &AppConfig) -> Result<App, SynthError> {
    let mut stacks = vec![pattern::stack(config)?, fixture::stack(config)?];
    stacks.extend(conformance::stacks(config)?);
    for stack in &mut stacks {
        stack.set_qualifier(&config.qualifier)?;
    }
    // What the bootstrap derives from the app's stacks never depends on their code: placeholder assets will do.
    let synthesized = stacks
        .iter()
        .map(|stack| {
            let mut assets = crate::AssetManifest::new();
            for asset in stack.assets() {
                assets.insert(asset.id, "0".repeat(64));
            }
            stack.synth(&assets)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bootstrap_config = bootstrap::BootstrapConfig {
        qualifier: config.qualifier.clone(),
        execution_policies: config.execution_policies.clone(),
        covered_stacks: config.covered_stacks.clone(),
    };
    let mut app = App::new();
    app.add_stack(bootstrap::stack(&bootstrap_config, &synthesized)?)?;
    for stack in stacks {
        app.add_stack(stack)?;
    }
    Ok(app)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_config_matches_the_contract() {
        let c = AppConfig::default();
        assert_eq!(c.stack_name, "durable-invoke-lambda");
        assert_eq!(c.architecture, Architecture::Arm64);
        assert_eq!(c.log_retention_days, 14);
    }

    #[test]
    fn invalid_configs_are_errors_naming_the_construct() {
        let err = app(&AppConfig { log_retention_days: 15, ..AppConfig::default() }).unwrap_err().to_string();
        assert!(err.starts_with("durable-invoke-lambda/ProcessorLogGroup: "), "{err}");

        let err = app(&AppConfig { stack_name: "bad_name".into(), ..AppConfig::default() }).unwrap_err();
        assert!(matches!(err, SynthError::InvalidStackName { .. }));

        let err = app(&AppConfig { stack_name: bootstrap::STACK_NAME.into(), ..AppConfig::default() }).unwrap_err();
        assert!(matches!(err, SynthError::DuplicateStack { .. }));
    }

    #[test]
    fn config_reads_from_json_with_defaults() {
        let c: AppConfig = serde_json::from_str(r#"{"architecture": "x86_64"}"#).unwrap();
        assert_eq!(c.architecture, Architecture::X86_64);
        assert_eq!(c.stack_name, DEFAULT_STACK_NAME);
        assert!(serde_json::from_str::<AppConfig>(r#"{"arch": "x86_64"}"#).is_err());
    }
}
