//! Amazon SNS in CDK's L2 manner: [`Topic`] makes an encrypted topic; [`TopicRef::grant_publish`] lets a function
//! or role publish to it and to nothing else.
//!
//! ```
//! use constructs::lambda::RustFunction;
//! use constructs::sns::Topic;
//! use constructs::{App, AssetManifest, Stack};
//!
//! let mut stack = Stack::new(&App::new(), "Shop")?;
//! let shipped = stack.construct("Shipped", Topic::new().display_name("Order shipped"))?;
//! let notifier = stack.construct("Notifier", RustFunction::new("notifier").env("TOPIC_ARN", shipped.arn()))?;
//! shipped.grant_publish(&mut stack, &notifier)?;
//!
//! let template = stack.synth(&AssetManifest::placeholders(&stack.assets()))?.template;
//! assert_eq!(template["Resources"]["Shipped"]["Properties"]["KmsMasterKeyId"], "alias/aws/sns");
//! let statement = &template["Resources"]["NotifierRole"]["Properties"]["Policies"][1]["PolicyDocument"]["Statement"][0];
//! assert_eq!((&statement["Action"][0], &statement["Resource"][0]["Ref"]), (&"sns:Publish".into(), &"Shipped".into()));
//! # Ok::<(), constructs::SynthError>(())
//! ```

use crate::construct::{Construct, Scope, Stack};
use crate::error::SynthError;
use crate::grant::{Grantee, sid};
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::cfn::{CfnRef, CfnResource};
use crate::resources::iam::Statement;

/// The AWS managed key of SNS, the default encryption. Publishers of this account need no key permission; AWS
/// services that publish on their own (EventBridge, S3 notifications) need a customer managed key instead.
pub const AWS_MANAGED_KEY: &str = "alias/aws/sns";

/// An `AWS::SNS::Topic` named by CloudFormation, encrypted with [`AWS_MANAGED_KEY`].
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Topic {
    display_name: Option<String>,
    key: Option<Expr>,
}

impl Default for Topic {
    fn default() -> Self {
        Self::new()
    }
}

impl Topic {
    /// A standard topic.
    pub fn new() -> Self {
        Self { display_name: None, key: None }
    }

    /// The name shown as the sender of SMS and email messages (at most 100 characters).
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Encrypts with a customer managed key (its ARN); publishers are then granted its use too.
    pub fn master_key(mut self, key: impl Into<Expr>) -> Self {
        self.key = Some(key.into());
        self
    }
}

impl Construct for Topic {
    type Output = TopicRef;

    /// Adds the topic `<id>` to `scope`.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<TopicRef, SynthError> {
        let path = format!("{}/{id}", scope.path());
        let mut topic = CfnResource::new("AWS::SNS::Topic");
        topic = match &self.key {
            Some(key) => topic.set("KmsMasterKeyId", key.clone()),
            None => topic.set("KmsMasterKeyId", AWS_MANAGED_KEY),
        };
        if let Some(name) = self.display_name {
            if name.chars().count() > 100 {
                return Err(SynthError::invalid(&path, "DisplayName must be at most 100 characters"));
            }
            topic = topic.set("DisplayName", name);
        }
        Ok(TopicRef { topic: scope.add(id, topic)?, key: self.key })
    }
}

/// What [`Topic`] made (`ref_()` is its ARN).
#[derive(Clone, Debug, PartialEq)]
pub struct TopicRef {
    topic: CfnRef,
    key: Option<Expr>,
}

impl TopicRef {
    /// The topic's ARN (`Ref`), what `Publish` takes.
    pub fn arn(&self) -> Expr {
        self.topic.ref_()
    }

    /// `Fn::GetAtt [Topic, TopicName]`.
    pub fn name(&self) -> Expr {
        self.topic.get_att("TopicName")
    }

    /// Lets `grantee` publish to this topic (`sns:Publish`); with a customer managed key, use that key too.
    pub fn grant_publish(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        stack.add_to_policy(
            grantee,
            Statement::allow().sid(sid("Publish", self.topic.handle())).actions(["sns:Publish"]).resource(self.arn()),
        )?;
        match &self.key {
            Some(key) => stack.add_to_policy(
                grantee,
                Statement::allow()
                    .sid(sid("PublishKey", self.topic.handle()))
                    .actions(["kms:GenerateDataKey", "kms:Decrypt"])
                    .resource(key.clone()),
            ),
            None => Ok(()),
        }
    }
}

impl Reference for TopicRef {
    fn handle(&self) -> &ResourceHandle {
        self.topic.handle()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::resources::iam::Role;
    use crate::{App, AssetManifest};

    #[test]
    fn a_customer_key_encrypts_the_topic_and_publishers_may_use_it() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let topic = stack.construct("Events", Topic::new().master_key(key)).unwrap();
        topic.grant_publish(&mut stack, &role).unwrap();
        let t = stack.synth(&AssetManifest::new()).unwrap().template;
        assert_eq!(t["Resources"]["Events"]["Properties"]["KmsMasterKeyId"], key);
        let statements = &t["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(statements[0]["Action"], json!(["sns:Publish"]));
        assert_eq!(statements[0]["Resource"], json!([{"Ref": "Events"}]));
        assert_eq!(statements[1]["Action"], json!(["kms:GenerateDataKey", "kms:Decrypt"]));
        assert_eq!(statements[1]["Resource"], json!([key]));
        assert_eq!(statements.as_array().unwrap().len(), 2);
        let error = Stack::new(&App::new(), "S")
            .unwrap()
            .construct("T", Topic::new().display_name("x".repeat(101)))
            .unwrap_err();
        assert!(error.to_string().starts_with("S/T: DisplayName"), "{error}");
    }
}
