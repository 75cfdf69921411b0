//! Any CloudFormation resource type, as CDK's L1 `CfnResource`: [`CfnResource`] takes a type name and properties,
//! and is checked at synth against the type's published schema ([`crate::schema`]), so a misspelled property, a
//! wrong type, a missing required property or a value outside an enum or pattern fails before CloudFormation sees
//! the template. Its reference ([`CfnRef`]) gives `Ref` and any attribute by name, checked the same way.
//!
//! ```
//! use constructs::resources::cfn::{CfnResource, PropValue};
//! use constructs::{App, Stack};
//!
//! let app = App::new();
//! let mut stack = Stack::new(&app, "Queues")?;
//! let dead = stack.add("DeadLetters", CfnResource::new("AWS::SQS::Queue").set("MessageRetentionPeriod", 1_209_600))?;
//! let redrive = PropValue::object([("deadLetterTargetArn", dead.get_att("Arn").into()), ("maxReceiveCount", 3.into())]);
//! stack.add("Jobs", CfnResource::new("AWS::SQS::Queue").set("RedrivePolicy", redrive))?;
//! let template = stack.synth(&constructs::AssetManifest::new())?.template;
//! assert_eq!(template["Resources"]["Jobs"]["Properties"]["RedrivePolicy"]["maxReceiveCount"], 3);
//!
//! let mut typo = Stack::new(&app, "Typo")?;
//! typo.add("Q", CfnResource::new("AWS::SQS::Queue").set("VisibilityTimout", 30))?;
//! let error = typo.synth(&constructs::AssetManifest::new()).unwrap_err().to_string();
//! assert!(error.contains("Typo/Q") && error.contains("did you mean `VisibilityTimeout`"));
//! # Ok::<(), constructs::SynthError>(())
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::SynthError;
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::Resource;
use crate::resources::sealed::{MakeRef, Synthesize};
use crate::synth::RenderContext;
use crate::template::RemovalPolicy;

/// A property value: JSON, with typed references (`Ref`, `Fn::GetAtt`, `Fn::Sub`) anywhere inside.
#[derive(Clone, Debug, PartialEq)]
pub enum PropValue {
    /// A literal JSON value.
    Json(Value),
    /// A value CloudFormation computes.
    Expr(Expr),
    /// A list whose items may hold references.
    List(Vec<PropValue>),
    /// An object whose values may hold references.
    Object(BTreeMap<String, PropValue>),
}

impl PropValue {
    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, PropValue)>) -> Self {
        Self::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of values.
    pub fn list<V: Into<PropValue>>(items: impl IntoIterator<Item = V>) -> Self {
        Self::List(items.into_iter().map(Into::into).collect())
    }

    /// The value as template JSON, references resolved.
    pub(crate) fn render(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        Ok(match self {
            Self::Json(value) => value.clone(),
            Self::Expr(expr) => expr.render(cx)?,
            Self::List(items) => Value::Array(items.iter().map(|i| i.render(cx)).collect::<Result<_, _>>()?),
            Self::Object(map) => {
                let mut out = Map::new();
                for (key, value) in map {
                    out.insert(key.clone(), value.render(cx)?);
                }
                Value::Object(out)
            }
        })
    }
}

impl From<Value> for PropValue {
    fn from(value: Value) -> Self {
        Self::Json(value)
    }
}

impl From<Expr> for PropValue {
    fn from(value: Expr) -> Self {
        Self::Expr(value)
    }
}

impl From<&str> for PropValue {
    fn from(value: &str) -> Self {
        Self::Json(Value::String(value.to_owned()))
    }
}

impl From<String> for PropValue {
    fn from(value: String) -> Self {
        Self::Json(Value::String(value))
    }
}

impl From<bool> for PropValue {
    fn from(value: bool) -> Self {
        Self::Json(Value::Bool(value))
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl From<$t> for PropValue {
            fn from(value: $t) -> Self {
                Self::Json(Value::from(value))
            }
        }
    )*};
}
numbers!(i32, i64, u32, u64, f64);

impl<V: Into<PropValue>> From<Vec<V>> for PropValue {
    fn from(items: Vec<V>) -> Self {
        Self::list(items)
    }
}

/// A resource of any CloudFormation type, given by name.
#[derive(Clone, Debug)]
#[must_use]
pub struct CfnResource {
    type_name: String,
    properties: BTreeMap<String, PropValue>,
    removal_policy: Option<RemovalPolicy>,
}

impl CfnResource {
    /// A resource of type `type_name` (`AWS::SQS::Queue`) without properties.
    pub fn new(type_name: impl Into<String>) -> Self {
        Self { type_name: type_name.into(), properties: BTreeMap::new(), removal_policy: None }
    }

    /// Sets property `name` (as CloudFormation spells it) to `value`.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<PropValue>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    /// Sets `DeletionPolicy` and `UpdateReplacePolicy`.
    pub fn removal_policy(mut self, policy: RemovalPolicy) -> Self {
        self.removal_policy = Some(policy);
        self
    }
}

impl Synthesize for CfnResource {
    fn resource_type(&self) -> &str {
        &self.type_name
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        let well_formed = self.type_name.split("::").count() == 3 && !self.type_name.contains(char::is_whitespace);
        if !well_formed || !crate::schema::exists(&self.type_name)? {
            return Err(SynthError::Schema {
                path: path.to_owned(),
                type_name: self.type_name.clone(),
                message: format!("is not a resource type CloudFormation knows (schemas of {})", crate::schema::SOURCE),
            });
        }
        Ok(())
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let mut out = Map::new();
        for (name, value) in &self.properties {
            out.insert(name.clone(), value.render(cx)?);
        }
        Ok(Value::Object(out))
    }

    fn removal_policy(&self) -> Option<RemovalPolicy> {
        self.removal_policy
    }
}

impl MakeRef for CfnResource {
    type Ref = CfnRef;
    fn make_ref(&self, handle: ResourceHandle) -> CfnRef {
        CfnRef { handle, type_name: self.type_name.clone() }
    }
}

impl Resource for CfnResource {}

/// A reference to a [`CfnResource`]: `ref_()` is what its type's `Ref` returns, [`CfnRef::get_att`] any
/// attribute, checked against the type's schema at synth.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CfnRef {
    handle: ResourceHandle,
    type_name: String,
}

impl CfnRef {
    /// `Fn::GetAtt [<resource>, attribute]`.
    pub fn get_att(&self, attribute: impl Into<String>) -> Expr {
        Expr::get_att(&self.handle, attribute.into())
    }

    /// The resource's type.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }
}

impl Reference for CfnRef {
    fn handle(&self) -> &ResourceHandle {
        &self.handle
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{App, AssetManifest, Stack};

    fn synth(configure: impl FnOnce(&mut Stack)) -> Result<Value, SynthError> {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        configure(&mut stack);
        stack.synth(&AssetManifest::new()).map(|s| s.template)
    }

    #[test]
    fn a_misspelled_type_is_refused_when_added() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let error = stack.add("Q", CfnResource::new("AWS::SQS::Queues")).unwrap_err().to_string();
        assert!(error.starts_with("S/Q: AWS::SQS::Queues is not a resource type"), "{error}");
    }

    #[test]
    fn each_schema_rule_fails_synth_naming_the_construct_path() {
        // A type the library has no typed builder for: a Step Functions activity, an SSM parameter, a table.
        let cases: Vec<(CfnResource, &str)> = vec![
            (CfnResource::new("AWS::StepFunctions::Activity").set("Nam", "x"), "`Nam` does not exist"),
            (CfnResource::new("AWS::SSM::Parameter").set("Type", "String"), "`Value` is required"),
            (CfnResource::new("AWS::SSM::Parameter").set("Type", "Strin").set("Value", "v"), "`Type` must be one of"),
            (CfnResource::new("AWS::SSM::Parameter").set("Type", "String").set("Value", vec!["a"]), "must be a string"),
            (
                CfnResource::new("AWS::Events::Rule")
                    .set("Name", "bad name!")
                    .set("ScheduleExpression", "rate(1 hour)"),
                "`Name` must match the pattern",
            ),
        ];
        for (resource, expected) in cases {
            let error = synth(|s| {
                s.add("R", resource).unwrap();
            })
            .unwrap_err()
            .to_string();
            assert!(error.starts_with("S/R: AWS::") && error.contains(expected), "{expected}: {error}");
        }
    }

    #[test]
    fn references_render_and_attributes_are_checked() {
        let template = synth(|s| {
            let topic = s.add("Topic", CfnResource::new("AWS::SNS::Topic")).unwrap();
            s.add("Param", CfnResource::new("AWS::SSM::Parameter").set("Type", "String").set("Value", topic.ref_()))
                .unwrap();
            s.add(
                "Other",
                CfnResource::new("AWS::SSM::Parameter").set("Type", "String").set("Value", topic.get_att("TopicName")),
            )
            .unwrap();
        })
        .unwrap();
        assert_eq!(template["Resources"]["Param"]["Properties"]["Value"], serde_json::json!({"Ref": "Topic"}));
        let error = synth(|s| {
            let topic = s.add("Topic", CfnResource::new("AWS::SNS::Topic")).unwrap();
            s.add(
                "Param",
                CfnResource::new("AWS::SSM::Parameter").set("Type", "String").set("Value", topic.get_att("Arn")),
            )
            .unwrap();
        })
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("S/Param: AWS::SNS::Topic Fn::GetAtt `Arn` does not exist"), "{error}");
    }
}
