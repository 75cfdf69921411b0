//! What runs on the local target: stacks of functions with `$LATEST`, numbered versions and aliases, planned from
//! synthesized templates ([`plan`]). Several stacks run side by side; each keeps its version numbers across
//! redeployments, and a published version is immutable, as on AWS: it keeps the binary and configuration it was
//! published with for as long as it exists, so an execution pinned to it replays on exactly that code.

pub mod plan;
mod template;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::arn::{Arns, LOCAL_ACCOUNT};
pub use plan::plan;
pub use template::{DurableSettings, TemplateResource};

/// The configuration one version of a function runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeConfig {
    /// The `bootstrap` binary, inside the state folder.
    pub code: PathBuf,
    /// SHA-256 of the binary.
    pub code_sha256: String,
    /// Environment variables, with local ARNs.
    pub env: BTreeMap<String, String>,
    /// Memory, MB.
    pub memory_mb: u64,
    /// Timeout, seconds.
    pub timeout_s: u64,
    /// `Text` or `JSON`.
    pub log_format: String,
    /// The log group its lines belong to.
    #[serde(default)]
    pub log_group: String,
    /// `Description`: the function's, or for a version its `AWS::Lambda::Version`'s own when it gives one.
    #[serde(default)]
    pub description: String,
    /// SHA-256 of the function's template properties this configuration came from. A new
    /// `AWS::Lambda::Version` publishes a new version only when it differs from the last published version's, as
    /// `PublishVersion` does.
    #[serde(default)]
    pub fingerprint: String,
    /// When this configuration was deployed, as Lambda writes `LastModified` (`2026-11-27T10:00:00.000+0000`).
    #[serde(default)]
    pub last_modified: String,
}

/// An alias: the version it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredAlias")]
pub struct Alias {
    /// The version number.
    pub version: u64,
    /// `Description`.
    #[serde(default)]
    pub description: String,
}

/// An alias as `deployment.json` holds it: a bare version number when an earlier release of the local target
/// wrote the file.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredAlias {
    Number(u64),
    Full {
        version: u64,
        #[serde(default)]
        description: String,
    },
}

impl From<StoredAlias> for Alias {
    fn from(stored: StoredAlias) -> Self {
        match stored {
            StoredAlias::Number(version) => Self { version, description: String::new() },
            StoredAlias::Full { version, description } => Self { version, description },
        }
    }
}

/// One deployed function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedFunction {
    /// Function name.
    pub name: String,
    /// Logical id in its template.
    pub logical_id: String,
    /// The stack it belongs to.
    #[serde(default)]
    pub stack: String,
    /// Durable settings (set when the function was created, as on AWS).
    pub durable: Option<DurableSettings>,
    /// `$LATEST`.
    pub latest: CodeConfig,
    /// Published versions by number, each immutable once published.
    pub versions: BTreeMap<u64, CodeConfig>,
    /// Aliases by name.
    pub aliases: BTreeMap<String, Alias>,
}

/// One stack on the local target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackDeployment {
    /// Stack name.
    pub stack: String,
    /// Functions by name.
    pub functions: BTreeMap<String, DeployedFunction>,
    /// Version logical ids to their numbers.
    pub version_numbers: BTreeMap<String, u64>,
    /// The stack's outputs, with local ARNs.
    pub outputs: BTreeMap<String, String>,
    /// Every resource with its local physical id.
    #[serde(default)]
    pub resources: Vec<TemplateResource>,
}

/// Everything deployed on the local target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Region the ARNs name.
    pub region: String,
    /// Stacks by name.
    pub stacks: BTreeMap<String, StackDeployment>,
}

/// What a function name and qualifier resolve to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFunction<'a> {
    /// The function.
    pub function: &'a DeployedFunction,
    /// `$LATEST` or the version number.
    pub version: String,
    /// The configuration that version runs with.
    pub config: &'a CodeConfig,
}

impl Deployment {
    /// An empty deployment in `region`.
    pub fn new(region: &str) -> Self {
        Self { region: region.to_owned(), stacks: BTreeMap::new() }
    }

    /// `arn:aws:lambda:<region>:000000000000:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        format!("arn:aws:lambda:{}:{LOCAL_ACCOUNT}:function:{name}", self.region)
    }

    /// The function ARN with a qualifier.
    pub fn qualified_arn(&self, name: &str, qualifier: &str) -> String {
        format!("{}:{qualifier}", self.function_arn(name))
    }

    /// The ARN builder of one stack.
    pub fn arns(&self, stack: &str) -> Arns {
        Arns::new(stack, &self.region)
    }

    /// Every function of every stack.
    pub fn functions(&self) -> impl Iterator<Item = &DeployedFunction> {
        self.stacks.values().flat_map(|s| s.functions.values())
    }

    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&DeployedFunction> {
        self.stacks.values().find_map(|s| s.functions.get(name))
    }

    /// Resolves a function name and qualifier (`None`/`$LATEST`, a version number or an alias).
    pub fn resolve(&self, name: &str, qualifier: Option<&str>) -> Option<ResolvedFunction<'_>> {
        let function = self.function(name)?;
        match qualifier {
            None | Some("$LATEST") => {
                Some(ResolvedFunction { function, version: "$LATEST".to_owned(), config: &function.latest })
            }
            Some(q) => {
                let number = q.parse::<u64>().ok().or_else(|| Some(function.aliases.get(q)?.version))?;
                let config = function.versions.get(&number)?;
                Some(ResolvedFunction { function, version: number.to_string(), config })
            }
        }
    }

    /// This deployment with `stack` added or replaced.
    #[must_use]
    pub fn with_stack(mut self, stack: StackDeployment) -> Self {
        self.stacks.insert(stack.stack.clone(), stack);
        self
    }

    /// This deployment without the stack named `name`.
    #[must_use]
    pub fn without_stack(mut self, name: &str) -> Self {
        self.stacks.remove(name);
        self
    }
}
