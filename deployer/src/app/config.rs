//! `deployer.toml`: which app this workspace deploys (as `cdk.json` names a CDK app) and its environments.
//!
//! ```toml
//! [app]
//! package = "stacks"          # the cargo package whose binary writes the cloud assembly
//! default-stack = "Pattern"   # what commands act on when no stack is named
//!
//! [environments.staging]
//! region = "eu-west-1"
//! account = "123456789012"    # checked against the caller's account before anything is deployed
//! stack-prefix = "staging-"   # default: "<name>-"
//! values = { log-retention-days = 7 }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{DeployerError, Result};

/// The file's name, at the workspace root.
pub(crate) const FILE_NAME: &str = "deployer.toml";

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct ProjectConfig {
    /// The app.
    pub(crate) app: AppSection,
    /// The environments, by name.
    #[serde(default)]
    pub(crate) environments: BTreeMap<String, EnvironmentConfig>,
}

/// `[app]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct AppSection {
    /// The cargo package of the app binary.
    pub(crate) package: String,
    /// The binary, when the package has several.
    pub(crate) bin: Option<String>,
    /// The construct id of the stack commands act on when none is named.
    pub(crate) default_stack: Option<String>,
}

/// `[environments.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct EnvironmentConfig {
    /// The AWS account the environment's stacks go to (12 digits).
    pub(crate) account: Option<String>,
    /// The AWS region the environment's stacks go to.
    pub(crate) region: Option<String>,
    /// Put before every stack name; default `<name>-`.
    pub(crate) stack_prefix: Option<String>,
    /// Values the app reads.
    #[serde(default)]
    pub(crate) values: BTreeMap<String, serde_json::Value>,
    /// Refuse development shortcuts (`up --hotswap`) against this environment.
    #[serde(default)]
    pub(crate) protected: bool,
}

impl ProjectConfig {
    /// Reads `<root>/deployer.toml`; `None` when there is none.
    pub(crate) fn read(root: &Path) -> Result<Option<Self>> {
        let path = root.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DeployerError::io("read", path, e)),
        };
        Self::parse(&text, &path).map(Some)
    }

    /// Parses the file's text (`path` names it in errors).
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| config_error(path, &e.to_string()))?;
        if config.app.package.is_empty() {
            return Err(config_error(path, "`[app] package` is empty: name the cargo package of your app binary"));
        }
        for (name, environment) in &config.environments {
            let valid_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !valid_name {
                return Err(config_error(
                    path,
                    &format!("environment `{name}`: names are letters, digits and hyphens"),
                ));
            }
            if let Some(account) = &environment.account
                && !(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()))
            {
                return Err(config_error(
                    path,
                    &format!("environment `{name}`: account `{account}` is not a 12-digit AWS account id"),
                ));
            }
        }
        Ok(config)
    }

    /// The environment `name`, as the app sees it; an unknown name lists the defined ones.
    pub(crate) fn environment(&self, name: &str) -> Result<constructs::Environment> {
        let environment = self.environments.get(name).ok_or_else(|| DeployerError::NotFound {
            what: format!("no environment `{name}` in {FILE_NAME}"),
            remedy: if self.environments.is_empty() {
                format!("define it as `[environments.{name}]` in {FILE_NAME}")
            } else {
                format!("use one of {}", self.environments.keys().cloned().collect::<Vec<_>>().join(", "))
            },
            source: None,
        })?;
        Ok(constructs::Environment {
            name: Some(name.to_owned()),
            account: environment.account.clone(),
            region: environment.region.clone(),
            stack_prefix: environment.stack_prefix.clone().unwrap_or_else(|| format!("{name}-")),
            values: environment.values.clone(),
            protected: environment.protected,
        })
    }
}

fn config_error(path: &Path, message: &str) -> DeployerError {
    DeployerError::Config(format!("{}: {message}", PathBuf::from(path).display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn parse(text: &str) -> Result<ProjectConfig> {
        ProjectConfig::parse(text, Path::new("deployer.toml"))
    }

    #[test]
    fn environments_get_a_default_prefix_and_their_values() {
        let config = parse(
            r#"
            [app]
            package = "stacks"
            default-stack = "Pattern"
            [environments.staging]
            region = "eu-west-1"
            values = { log-retention-days = 7 }
            [environments.production]
            account = "123456789012"
            stack-prefix = ""
            protected = true
            "#,
        )
        .unwrap();
        assert_eq!(config.app.default_stack.as_deref(), Some("Pattern"));
        let staging = config.environment("staging").unwrap();
        assert_eq!(staging.stack_prefix, "staging-");
        assert_eq!(staging.values["log-retention-days"], 7);
        assert!(!staging.protected);
        let production = config.environment("production").unwrap();
        assert_eq!((production.stack_prefix.as_str(), production.protected), ("", true));
        let error = config.environment("prod").unwrap_err().to_string();
        assert!(error.contains("`prod`") && error.contains("production, staging"), "{error}");
    }

    #[test]
    fn mistakes_name_the_file_and_the_field() {
        let error = parse("[app]\npackage = \"stacks\"\ndefault_stack = \"x\"\n").unwrap_err().to_string();
        assert!(error.contains("deployer.toml") && error.contains("default_stack"), "{error}");
        let error = parse("[app]\npackage = \"\"\n").unwrap_err().to_string();
        assert!(error.contains("package"), "{error}");
        let error = parse("[app]\npackage = \"s\"\n[environments.x]\naccount = \"12\"\n").unwrap_err().to_string();
        assert!(error.contains("12-digit"), "{error}");
        let error = parse("[app]\npackage = \"s\"\n[environments.\"a b\"]\n").unwrap_err().to_string();
        assert!(error.contains("`a b`"), "{error}");
    }
}
