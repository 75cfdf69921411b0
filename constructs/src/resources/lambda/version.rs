//! `AWS::Lambda::Version` named after its function's hash, and `AWS::Lambda::Alias`.

use serde_json::Value;

use crate::error::SynthError;
use crate::reference::{AliasRef, FunctionRef, Reference, ResourceHandle, VersionRef};
use crate::resources::sealed::{MakeRef, Synthesize};
use crate::resources::{Props, Resource, check_description};
use crate::synth::RenderContext;
use crate::template::RemovalPolicy;

/// An `AWS::Lambda::Version` of a function's current code and configuration.
///
/// Its logical ID is its construct id followed by 8 hex digits of the SHA-256 of the function's rendered
/// properties, so a change to the function publishes a new version and an unchanged function publishes none.
/// Old versions are retained (`DeletionPolicy: Retain`): durable executions started on them replay on them.
/// Deleting the function deletes all its versions, so nothing is left behind when the stack goes.
#[derive(Clone, Debug)]
#[must_use]
pub struct Version {
    function: FunctionRef,
    description: Option<String>,
}

impl Version {
    /// The current version of `function`.
    pub fn of(function: &FunctionRef) -> Self {
        Self { function: function.clone(), description: None }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl Synthesize for Version {
    fn resource_type(&self) -> &'static str {
        "AWS::Lambda::Version"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        check_description(path, self.description.as_deref(), 256)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        Ok(Props::new()
            .set_opt("Description", self.description.clone())
            .set("FunctionName", self.function.ref_().render(cx)?)
            .build())
    }

    fn removal_policy(&self) -> Option<RemovalPolicy> {
        Some(RemovalPolicy::Retain)
    }

    fn hashed_from(&self) -> Option<&ResourceHandle> {
        Some(self.function.handle())
    }
}

impl MakeRef for Version {
    type Ref = VersionRef;
    fn make_ref(&self, handle: ResourceHandle) -> VersionRef {
        VersionRef::new(handle, self.function.clone())
    }
}

impl Resource for Version {}

/// An `AWS::Lambda::Alias` pointing at a version.
#[derive(Clone, Debug)]
#[must_use]
pub struct Alias {
    name: String,
    version: VersionRef,
    description: Option<String>,
}

impl Alias {
    /// Alias `name` of `version`'s function, pointing at `version`.
    pub fn new(name: impl Into<String>, version: &VersionRef) -> Self {
        Self { name: name.into(), version: version.clone(), description: None }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
}

impl Synthesize for Alias {
    fn resource_type(&self) -> &'static str {
        "AWS::Lambda::Alias"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        let valid = (1..=128).contains(&self.name.len())
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !self.name.chars().all(|c| c.is_ascii_digit());
        if !valid {
            return Err(SynthError::invalid(
                path,
                format!("alias name `{}` must be 1 to 128 of [A-Za-z0-9_-] and not only digits", self.name),
            ));
        }
        check_description(path, self.description.as_deref(), 256)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        Ok(Props::new()
            .set_opt("Description", self.description.clone())
            .set("FunctionName", self.version.function().ref_().render(cx)?)
            .set("FunctionVersion", self.version.version().render(cx)?)
            .set("Name", self.name.clone())
            .build())
    }
}

impl MakeRef for Alias {
    type Ref = AliasRef;
    fn make_ref(&self, handle: ResourceHandle) -> AliasRef {
        AliasRef::new(handle)
    }
}

impl Resource for Alias {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::asset::AssetSource;
    use crate::construct::Stack;
    use crate::resources::iam::Role;
    use crate::resources::lambda::Function;

    #[test]
    fn alias_names_are_checked() {
        let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let code = AssetSource::Zip { path: "f.zip".into() };
        let f = stack.add("Fn", Function::new(code, &role)).unwrap();
        let v = stack.add("FnVersion", Version::of(&f)).unwrap();
        for bad in ["", "123", "has space"] {
            let err = stack.add("Alias", Alias::new(bad, &v)).unwrap_err().to_string();
            assert!(err.starts_with("s/Alias: "), "{err}");
        }
        stack.add("Alias", Alias::new("live", &v)).unwrap();
    }
}
