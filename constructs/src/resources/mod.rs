//! Typed resource builders: each validates what CloudFormation would reject and renders its `Properties`.
//!
//! Builders are plain values; [`crate::construct::Stack::add`] validates one, stores it under a construct id and
//! returns its typed reference.

pub mod cfn;
pub mod iam;
pub mod lambda;
pub mod logs;
pub mod s3;

use serde_json::{Map, Value};

/// A resource type that can be added to a stack. Implemented by this crate's builders only.
pub trait Resource: sealed::MakeRef {}

/// The crate-private half of [`Resource`]: how a builder is validated and rendered.
pub(crate) mod sealed {
    use serde_json::Value;

    use crate::asset::AssetSource;
    use crate::error::SynthError;
    use crate::reference::ResourceHandle;
    use crate::synth::RenderContext;
    use crate::template::RemovalPolicy;

    /// Validation and rendering of one resource (object safe, so a stack can hold any mix; `Any`, so grants can
    /// add statements to a role already in the stack).
    pub trait Synthesize: std::fmt::Debug + std::any::Any {
        /// `Type` of the resource.
        fn resource_type(&self) -> &str;
        /// Rejects values CloudFormation would reject, naming `path`.
        fn validate(&self, path: &str) -> Result<(), SynthError>;
        /// `Properties`, with references resolved through `cx`.
        fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError>;
        /// The asset the resource's code comes from.
        fn asset(&self) -> Option<&AssetSource> {
            None
        }
        /// `DeletionPolicy` and `UpdateReplacePolicy`.
        fn removal_policy(&self) -> Option<RemovalPolicy> {
            None
        }
        /// A resource whose rendered properties are hashed into this resource's logical ID.
        fn hashed_from(&self) -> Option<&ResourceHandle> {
            None
        }
        /// The event a caller sends when it names none (functions only).
        fn example_event(&self) -> Option<&Value> {
            None
        }
    }

    /// Makes the typed reference of a resource once it has a handle.
    pub trait MakeRef: Synthesize {
        /// The typed reference type.
        type Ref;
        /// The reference to this resource at `handle`.
        fn make_ref(&self, handle: ResourceHandle) -> Self::Ref;
    }
}

/// Builds a `Properties` object; keys are inserted in the order given (alphabetical by convention).
#[derive(Debug, Default)]
pub(crate) struct Props(Map<String, Value>);

impl Props {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub(crate) fn set_opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    pub(crate) fn build(self) -> Value {
        Value::Object(self.0)
    }
}

/// Rejects a description longer than `max` characters.
pub(crate) fn check_description(
    path: &str,
    description: Option<&str>,
    max: usize,
) -> Result<(), crate::error::SynthError> {
    match description {
        Some(d) if d.chars().count() > max => {
            Err(crate::error::SynthError::invalid(path, format!("Description must be at most {max} characters")))
        }
        _ => Ok(()),
    }
}
