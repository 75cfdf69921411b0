//! The one error type of synthesis: every message names the construct path, stack, asset or key at fault.

/// Why an app could not be defined or synthesized.
///
/// Messages are lowercase, name what is at fault (a construct path such as
/// `durable-invoke-lambda/Processor`, a stack or an asset) and say what would be accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SynthError {
    /// A numeric property is outside the range CloudFormation accepts.
    #[error("{path}: {property} must be within {min}..={max}, got {value}")]
    OutOfRange {
        /// Construct path of the resource.
        path: String,
        /// Property, as CloudFormation names it (`MemorySize`, `DurableConfig.ExecutionTimeout`, ...).
        property: &'static str,
        /// The rejected value.
        value: u64,
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// A log retention that `AWS::Logs::LogGroup` does not accept.
    #[error("{path}: RetentionInDays {value} is not accepted by cloudwatch logs; use one of {valid}")]
    InvalidRetention {
        /// Construct path of the log group.
        path: String,
        /// The rejected value.
        value: u32,
        /// The accepted values, comma separated.
        valid: String,
    },
    /// A property value that CloudFormation would reject for another reason than its range.
    #[error("{path}: {message}")]
    InvalidProperty {
        /// Construct path of the resource.
        path: String,
        /// What is wrong and what would be accepted.
        message: String,
    },
    /// An IAM statement that grants or names more than the least-privilege rules allow.
    #[error("{path}: iam statement {statement} is too broad: {reason}")]
    OverlyBroadPolicy {
        /// Construct path of the resource holding the policy.
        path: String,
        /// Position of the statement in its policy document (0-based), with its Sid if any.
        statement: String,
        /// The offending element and value.
        reason: String,
    },
    /// A construct id that cannot be used (empty, or containing `/`).
    #[error("{path}: construct id `{id}` is invalid: ids must be non-empty and must not contain '/'")]
    InvalidConstructId {
        /// Path of the scope the construct was added to.
        path: String,
        /// The rejected id.
        id: String,
    },
    /// Two constructs with the same path.
    #[error("{path}: a construct with this path already exists")]
    DuplicateConstruct {
        /// The path used twice.
        path: String,
    },
    /// A path whose logical ID cannot be computed (nothing left after hiding `Default`, or nothing alphanumeric).
    #[error("{path}: cannot derive a logical id: {reason}")]
    InvalidLogicalId {
        /// The construct path.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// Two resources or outputs of one stack that end up with the same logical ID.
    #[error("stack {stack}: logical id {logical_id} is used by both {first} and {second}")]
    DuplicateLogicalId {
        /// The stack.
        stack: String,
        /// The logical ID.
        logical_id: String,
        /// Path of the first construct.
        first: String,
        /// Path of the second construct.
        second: String,
    },
    /// A stack name CloudFormation rejects.
    #[error("stack name `{name}` is invalid: use 1 to 128 letters, digits and '-', starting with a letter")]
    InvalidStackName {
        /// The rejected name.
        name: String,
    },
    /// Two stacks with one name or one construct id in an app.
    #[error("stack {name} is defined twice in the app (same name or same construct id): rename one")]
    DuplicateStack {
        /// The name of the stack added second.
        name: String,
    },
    /// A reference to a resource of another stack, or to one that is not defined before its use.
    #[error("{path}: reference to {target}, which is not an earlier resource of stack {stack}")]
    UnresolvedReference {
        /// Path of the construct holding the reference.
        path: String,
        /// Path of the referenced construct.
        target: String,
        /// The stack being synthesized.
        stack: String,
    },
    /// Synthesis needs an asset the manifest does not list.
    #[error("asset {id} is missing from the asset manifest; build and publish it before synth")]
    MissingAsset {
        /// Asset id (the construct path of the function).
        id: String,
    },
    /// An asset whose hash is not 64 lowercase hex characters.
    #[error("asset {id} has sha256 `{sha256}`, expected 64 lowercase hex characters")]
    InvalidAssetHash {
        /// Asset id.
        id: String,
        /// The rejected hash.
        sha256: String,
    },
    /// A resource that does not fit its type's published CloudFormation schema.
    #[error("{path}: {type_name} {message}")]
    Schema {
        /// Construct path of the resource.
        path: String,
        /// Its resource type.
        type_name: String,
        /// The rule it breaks and what would be accepted.
        message: String,
    },
    /// An environment value of the wrong shape.
    #[error("environment {environment}: value `{key}` cannot be read: {message}; fix it in deployer.toml")]
    InvalidValue {
        /// The environment's name.
        environment: String,
        /// The value's key.
        key: String,
        /// Why it could not be read.
        message: String,
    },
    /// A template could not be rendered as JSON.
    #[error("stack {stack}: cannot render the template as json")]
    Render {
        /// The stack.
        stack: String,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
}

impl SynthError {
    /// Builds [`SynthError::InvalidProperty`]: what a construct of your own reports about a value it refuses.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Self::InvalidProperty { path: path.to_owned(), message: message.into() }
    }

    /// Checks `min <= value <= max`, or returns [`SynthError::OutOfRange`].
    pub(crate) fn check_range(path: &str, property: &'static str, value: u64, min: u64, max: u64) -> Result<(), Self> {
        if (min..=max).contains(&value) {
            Ok(())
        } else {
            Err(Self::OutOfRange { path: path.to_owned(), property, value, min, max })
        }
    }
}
