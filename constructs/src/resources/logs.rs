//! CloudWatch Logs: `AWS::Logs::LogGroup` owned by the stack, with a retention.

use serde_json::Value;

use super::sealed::{MakeRef, Synthesize};
use super::{Props, Resource};
use crate::error::SynthError;
use crate::reference::{Expr, LogGroupRef, ResourceHandle};
use crate::synth::RenderContext;
use crate::template::RemovalPolicy;

/// The `RetentionInDays` values CloudWatch Logs accepts.
pub const RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// An `AWS::Logs::LogGroup`, named by CloudFormation unless given a name.
///
/// It is deleted with the stack by default (`DeletionPolicy` and `UpdateReplacePolicy` `Delete`), so removing a
/// stack leaves no orphaned logs behind.
#[derive(Clone, Debug)]
#[must_use]
pub struct LogGroup {
    retention_days: u32,
    removal_policy: RemovalPolicy,
    name: Option<Expr>,
}

impl LogGroup {
    /// A log group keeping events for `retention_days` (one of [`RETENTION_DAYS`]).
    pub fn new(retention_days: u32) -> Self {
        Self { retention_days, removal_policy: RemovalPolicy::Delete, name: None }
    }

    /// Sets `LogGroupName`, e.g. a function's default group `/aws/lambda/<function name>`, which tools that
    /// know only the function's name (CloudWatch's console, the conformance suite's validator) read.
    pub fn name(mut self, name: impl Into<Expr>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Keeps the group when the stack deletes or replaces it.
    pub fn removal_policy(mut self, policy: RemovalPolicy) -> Self {
        self.removal_policy = policy;
        self
    }
}

impl Synthesize for LogGroup {
    fn resource_type(&self) -> &'static str {
        "AWS::Logs::LogGroup"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        if RETENTION_DAYS.contains(&self.retention_days) {
            Ok(())
        } else {
            Err(SynthError::InvalidRetention {
                path: path.to_owned(),
                value: self.retention_days,
                valid: RETENTION_DAYS.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
            })
        }
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let name = self.name.as_ref().map(|n| n.render(cx)).transpose()?;
        Ok(Props::new().set_opt("LogGroupName", name).set("RetentionInDays", self.retention_days).build())
    }

    fn removal_policy(&self) -> Option<RemovalPolicy> {
        Some(self.removal_policy)
    }
}

impl MakeRef for LogGroup {
    type Ref = LogGroupRef;
    fn make_ref(&self, handle: ResourceHandle) -> LogGroupRef {
        LogGroupRef::new(handle)
    }
}

impl Resource for LogGroup {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::construct::Stack;

    #[test]
    fn a_named_group_renders_its_name() {
        use crate::reference::{Reference, Sub};
        use crate::resources::iam::Role;
        use crate::resources::lambda::Function;

        let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let code = crate::asset::AssetSource::Zip { path: "f.zip".into() };
        let function = stack.add("Fn", Function::new(code, &role)).unwrap();
        let name = Sub::new().text("/aws/lambda/").value(function.ref_()).build();
        stack.add("Named", LogGroup::new(14).name(name)).unwrap();
        stack.add("Unnamed", LogGroup::new(14)).unwrap();
        let mut assets = crate::asset::AssetManifest::new();
        assets.insert("s/Fn", "0".repeat(64));
        let t = stack.synth(&assets).unwrap().template;
        assert_eq!(
            t["Resources"]["Named"]["Properties"]["LogGroupName"],
            serde_json::json!({"Fn::Sub": "/aws/lambda/${Fn}"})
        );
        assert!(t["Resources"]["Unnamed"]["Properties"].get("LogGroupName").is_none());
    }

    #[test]
    fn retention_must_be_a_value_cloudwatch_accepts() {
        let mut stack = Stack::new(&crate::App::new(), "s").unwrap();
        for days in [0, 2, 15, 3654] {
            let err = stack.add(&format!("G{days}"), LogGroup::new(days)).unwrap_err();
            let message = err.to_string();
            assert!(message.starts_with(&format!("s/G{days}: ")), "{message}");
            assert!(message.contains(&days.to_string()) && message.contains("14"), "{message}");
        }
        for days in RETENTION_DAYS {
            stack.add(&format!("G{days}"), LogGroup::new(*days)).unwrap();
        }
    }
}
