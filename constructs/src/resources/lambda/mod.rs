//! Lambda: `AWS::Lambda::Function` (with `DurableConfig`), `AWS::Lambda::Version` and `AWS::Lambda::Alias`.

mod function;
mod version;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::reference::Expr;

pub use function::Function;
pub use version::{Alias, Version};

/// Accepted `MemorySize` (MB).
pub const MEMORY_SIZE_RANGE: (u32, u32) = (128, 10_240);
/// Accepted `Timeout` (seconds).
pub const TIMEOUT_RANGE: (u32, u32) = (1, 900);
/// Accepted `DurableConfig.ExecutionTimeout` (seconds, up to a year).
pub const EXECUTION_TIMEOUT_RANGE: (u32, u32) = (1, 31_622_400);
/// Accepted `DurableConfig.RetentionPeriodInDays`.
pub const RETENTION_PERIOD_RANGE: (u32, u32) = (1, 90);

/// Instruction set of a function.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Architecture {
    /// Graviton (`arm64`), the default.
    #[default]
    #[serde(rename = "arm64")]
    Arm64,
    /// `x86_64`.
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Architecture {
    /// Every architecture.
    pub const ALL: [Self; 2] = [Self::Arm64, Self::X86_64];

    /// The name Lambda uses (`arm64`, `x86_64`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arm64 => "arm64",
            Self::X86_64 => "x86_64",
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Architecture`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown architecture `{value}`: expected one of arm64, x86_64")]
pub struct ParseArchitectureError {
    /// The rejected text.
    pub value: String,
}

impl FromStr for Architecture {
    type Err = ParseArchitectureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| ParseArchitectureError { value: s.to_owned() })
    }
}

/// A Lambda runtime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// `provided.al2023`: a custom runtime (a Rust `bootstrap` binary) on Amazon Linux 2023.
    #[default]
    ProvidedAl2023,
}

impl Runtime {
    /// The identifier Lambda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProvidedAl2023 => "provided.al2023",
        }
    }
}

/// Format of a function's logs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Structured JSON lines.
    #[default]
    Json,
    /// Plain text.
    Text,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Text => "Text",
        }
    }
}

/// `DurableConfig` of a durable function.
///
/// Durability itself can only be chosen when a function is created: adding or removing `DurableConfig` makes
/// CloudFormation replace the function, and a replaced function is deleted with all its versions, so executions
/// still running on them cannot continue (the deployer warns before such a change). Changing the values of an
/// existing durable function (`ExecutionTimeout`, `RetentionPeriodInDays`, `KMSKeyArn`) is an update without
/// interruption; a changed key applies to executions started after the change.
#[derive(Clone, Debug, PartialEq)]
pub struct DurableConfig {
    /// `ExecutionTimeout`: the longest a whole durable execution may take, in seconds.
    pub execution_timeout_seconds: u32,
    /// `RetentionPeriodInDays`: how long a finished execution's history is kept.
    pub retention_period_in_days: u32,
    /// `KMSKeyArn`: a symmetric customer managed KMS key in the function's region that encrypts the executions'
    /// payloads, checkpoints and results; `None` keeps Lambda's own encryption. The key's policy must let Lambda
    /// and the function's callers use it.
    pub kms_key_arn: Option<Expr>,
}

impl DurableConfig {
    /// A durable configuration without a customer managed key.
    pub const fn new(execution_timeout_seconds: u32, retention_period_in_days: u32) -> Self {
        Self { execution_timeout_seconds, retention_period_in_days, kms_key_arn: None }
    }

    /// Encrypts execution data with the customer managed key `arn` (a literal ARN, a parameter or a reference).
    #[must_use]
    pub fn kms_key_arn(mut self, arn: impl Into<Expr>) -> Self {
        self.kms_key_arn = Some(arn.into());
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn architecture_parses_and_displays() {
        for a in Architecture::ALL {
            assert_eq!(a.to_string().parse::<Architecture>().unwrap(), a);
        }
        let err = "amd64".parse::<Architecture>().unwrap_err().to_string();
        assert!(err.contains("amd64") && err.contains("arm64") && err.contains("x86_64"), "{err}");
        assert_eq!(serde_json::to_value(Architecture::X86_64).unwrap(), json!("x86_64"));
        assert_eq!(serde_json::from_value::<Architecture>(json!("arm64")).unwrap(), Architecture::Arm64);
    }
}
