//! Amazon SQS in CDK's L2 manner: [`Queue`] makes an encrypted queue (and, when asked, its dead-letter queue);
//! [`QueueRef::grant_send`] and [`QueueRef::grant_consume`] give a function or role what sending and consuming
//! need on that queue and nothing else. A function consumes a queue through
//! [`crate::event_sources::SqsEventSource`].
//!
//! ```
//! use constructs::lambda::RustFunction;
//! use constructs::sqs::Queue;
//! use constructs::{App, AssetManifest, Stack};
//!
//! let mut stack = Stack::new(&App::new(), "Shop")?;
//! let orders = stack.construct("Orders", Queue::new().dead_letter_queue(3))?;
//! let checkout = stack.construct("Checkout", RustFunction::new("checkout"))?;
//! orders.grant_send(&mut stack, &checkout)?;
//!
//! let template = stack.synth(&AssetManifest::placeholders(&stack.assets()))?.template;
//! let queue = &template["Resources"]["Orders"]["Properties"];
//! assert_eq!(queue["KmsMasterKeyId"], "alias/aws/sqs");
//! assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 3);
//! let statement = &template["Resources"]["CheckoutRole"]["Properties"]["Policies"][1]["PolicyDocument"]["Statement"][0];
//! assert_eq!(statement["Action"][0], "sqs:SendMessage");
//! assert_eq!(statement["Resource"][0]["Fn::GetAtt"][0], "Orders");
//! # Ok::<(), constructs::SynthError>(())
//! ```

use crate::construct::{Construct, Scope, Stack};
use crate::error::SynthError;
use crate::grant::{Grantee, sid};
use crate::reference::{Expr, Reference, ResourceHandle};
use crate::resources::cfn::{CfnRef, CfnResource, PropValue};
use crate::resources::iam::Statement;

/// `VisibilityTimeout` range, seconds.
pub const VISIBILITY_TIMEOUT_RANGE: (u32, u32) = (0, 43_200);
/// `MessageRetentionPeriod` range, seconds (one minute to fourteen days).
pub const RETENTION_PERIOD_RANGE: (u32, u32) = (60, 1_209_600);
/// `maxReceiveCount` range of a redrive policy.
pub const MAX_RECEIVE_COUNT_RANGE: (u32, u32) = (1, 1000);
/// The AWS managed key of SQS, the default encryption: checkov's encryption check passes, and principals of the
/// account that may use the queue may use the key without a statement of their own.
pub const AWS_MANAGED_KEY: &str = "alias/aws/sqs";

/// Why a queue encrypted with SQS-managed keys skips checkov's KMS check.
const SQS_MANAGED_SKIP: (&str, &str) = (
    "CKV_AWS_27",
    "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), chosen to avoid KMS requests; no KMS key to name",
);

/// How a queue's messages are encrypted at rest.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum QueueEncryption {
    /// SSE-KMS with the AWS managed key `alias/aws/sqs` (the default).
    #[default]
    KmsManaged,
    /// SSE-SQS: keys SQS owns, no KMS requests (checkov's KMS check is skipped with the reason).
    SqsManaged,
    /// SSE-KMS with a customer managed key (its ARN); grants add the key permissions sending and consuming need.
    Kms(Expr),
}

/// An `AWS::SQS::Queue` named by CloudFormation: 30 s visibility timeout, four days' retention, encrypted with
/// [`AWS_MANAGED_KEY`], deleted with the stack.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Queue {
    visibility_timeout_seconds: u32,
    retention_period_seconds: Option<u32>,
    fifo: bool,
    encryption: QueueEncryption,
    dead_letter: Option<u32>,
}

impl Default for Queue {
    fn default() -> Self {
        Self::new()
    }
}

impl Queue {
    /// A standard queue with SQS's defaults, encrypted.
    pub fn new() -> Self {
        Self {
            visibility_timeout_seconds: 30,
            retention_period_seconds: None,
            fifo: false,
            encryption: QueueEncryption::default(),
            dead_letter: None,
        }
    }

    /// How long a received message stays invisible to other consumers (0..=43200 s). A queue that triggers a
    /// function needs at least the function's timeout (a durable function's execution timeout).
    pub fn visibility_timeout_seconds(mut self, seconds: u32) -> Self {
        self.visibility_timeout_seconds = seconds;
        self
    }

    /// How long SQS keeps a message (60..=1209600 s).
    pub fn retention_period_seconds(mut self, seconds: u32) -> Self {
        self.retention_period_seconds = Some(seconds);
        self
    }

    /// A FIFO queue (CloudFormation names it with the `.fifo` suffix).
    pub fn fifo(mut self) -> Self {
        self.fifo = true;
        self
    }

    /// How messages are encrypted at rest.
    pub fn encryption(mut self, encryption: QueueEncryption) -> Self {
        self.encryption = encryption;
        self
    }

    /// Adds a dead-letter queue `<id>DeadLetterQueue` (same kind and encryption, fourteen days' retention) that
    /// receives a message after `max_receive_count` failed receives (1..=1000).
    pub fn dead_letter_queue(mut self, max_receive_count: u32) -> Self {
        self.dead_letter = Some(max_receive_count);
        self
    }

    fn resource(&self) -> CfnResource {
        let mut queue = CfnResource::new("AWS::SQS::Queue").set("VisibilityTimeout", self.visibility_timeout_seconds);
        if let Some(seconds) = self.retention_period_seconds {
            queue = queue.set("MessageRetentionPeriod", seconds);
        }
        if self.fifo {
            queue = queue.set("FifoQueue", true);
        }
        match &self.encryption {
            QueueEncryption::KmsManaged => queue.set("KmsMasterKeyId", AWS_MANAGED_KEY),
            QueueEncryption::SqsManaged => queue.set("SqsManagedSseEnabled", true),
            QueueEncryption::Kms(key) => queue.set("KmsMasterKeyId", key.clone()),
        }
    }

    fn check(&self, path: &str) -> Result<(), SynthError> {
        let (min, max) = VISIBILITY_TIMEOUT_RANGE;
        SynthError::check_range(
            path,
            "VisibilityTimeout",
            self.visibility_timeout_seconds.into(),
            min.into(),
            max.into(),
        )?;
        if let Some(seconds) = self.retention_period_seconds {
            let (min, max) = RETENTION_PERIOD_RANGE;
            SynthError::check_range(path, "MessageRetentionPeriod", seconds.into(), min.into(), max.into())?;
        }
        if let Some(count) = self.dead_letter {
            let (min, max) = MAX_RECEIVE_COUNT_RANGE;
            SynthError::check_range(path, "RedrivePolicy.maxReceiveCount", count.into(), min.into(), max.into())?;
        }
        Ok(())
    }
}

impl Construct for Queue {
    type Output = QueueRef;

    /// Adds the queue `<id>` (and `<id>DeadLetterQueue` first, when asked) to `scope`.
    fn build(self, scope: &mut Scope<'_>, id: &str) -> Result<QueueRef, SynthError> {
        self.check(&format!("{}/{id}", scope.path()))?;
        let key = match &self.encryption {
            QueueEncryption::Kms(key) => Some(key.clone()),
            _ => None,
        };
        let dead_letter = match self.dead_letter {
            Some(_) => {
                let dead = Self {
                    retention_period_seconds: Some(RETENTION_PERIOD_RANGE.1),
                    dead_letter: None,
                    ..self.clone()
                };
                let queue = scope.add(&format!("{id}DeadLetterQueue"), dead.resource())?;
                Some(Box::new(QueueRef {
                    queue,
                    visibility_timeout_seconds: self.visibility_timeout_seconds,
                    fifo: self.fifo,
                    key: key.clone(),
                    dead_letter: None,
                }))
            }
            None => None,
        };
        let mut resource = self.resource();
        if let (Some(dead), Some(count)) = (&dead_letter, self.dead_letter) {
            let redrive =
                PropValue::object([("deadLetterTargetArn", dead.arn().into()), ("maxReceiveCount", count.into())]);
            resource = resource.set("RedrivePolicy", redrive);
        }
        let queue = scope.add(id, resource)?;
        if self.encryption == QueueEncryption::SqsManaged {
            let stack = scope.stack();
            stack.skip_check(&queue, SQS_MANAGED_SKIP.0, SQS_MANAGED_SKIP.1)?;
            if let Some(dead) = &dead_letter {
                stack.skip_check(&dead.queue, SQS_MANAGED_SKIP.0, SQS_MANAGED_SKIP.1)?;
            }
        }
        Ok(QueueRef {
            queue,
            visibility_timeout_seconds: self.visibility_timeout_seconds,
            fifo: self.fifo,
            key,
            dead_letter,
        })
    }
}

/// What [`Queue`] made: the queue (`ref_()` is its URL), what its consumers must respect, and its dead-letter
/// queue.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueRef {
    queue: CfnRef,
    visibility_timeout_seconds: u32,
    fifo: bool,
    key: Option<Expr>,
    dead_letter: Option<Box<QueueRef>>,
}

impl QueueRef {
    /// `Fn::GetAtt [Queue, Arn]`.
    pub fn arn(&self) -> Expr {
        self.queue.get_att("Arn")
    }

    /// The queue's URL (`Ref`), what the SDKs' `QueueUrl` takes.
    pub fn url(&self) -> Expr {
        self.queue.ref_()
    }

    /// `Fn::GetAtt [Queue, QueueName]`.
    pub fn name(&self) -> Expr {
        self.queue.get_att("QueueName")
    }

    /// Its visibility timeout, seconds.
    pub fn visibility_timeout_seconds(&self) -> u32 {
        self.visibility_timeout_seconds
    }

    /// Whether it is a FIFO queue.
    pub fn is_fifo(&self) -> bool {
        self.fifo
    }

    /// Its dead-letter queue, when it has one.
    pub fn dead_letter_queue(&self) -> Option<&QueueRef> {
        self.dead_letter.as_deref()
    }

    /// Lets `grantee` send messages to this queue (`sqs:SendMessage`, and reading the queue's URL and attributes
    /// that SDKs ask for first); with a customer managed key, encrypting with that key.
    pub fn grant_send(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        self.grant(stack, grantee, "Send", &["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"])?;
        self.grant_key(stack, grantee, "SendKey", &["kms:GenerateDataKey", "kms:Decrypt"])
    }

    /// Lets `grantee` receive, delete and hide messages of this queue, as a consumer (an event source mapping)
    /// needs; with a customer managed key, decrypting with that key.
    pub fn grant_consume(&self, stack: &mut Stack, grantee: &impl Grantee) -> Result<(), SynthError> {
        self.grant(
            stack,
            grantee,
            "Consume",
            &[
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
            ],
        )?;
        self.grant_key(stack, grantee, "ConsumeKey", &["kms:Decrypt"])
    }

    fn grant(&self, stack: &mut Stack, grantee: &impl Grantee, verb: &str, actions: &[&str]) -> Result<(), SynthError> {
        stack.add_to_policy(
            grantee,
            Statement::allow()
                .sid(sid(verb, self.queue.handle()))
                .actions(actions.iter().copied())
                .resource(self.arn()),
        )
    }

    fn grant_key(
        &self,
        stack: &mut Stack,
        grantee: &impl Grantee,
        verb: &str,
        actions: &[&str],
    ) -> Result<(), SynthError> {
        match &self.key {
            Some(key) => stack.add_to_policy(
                grantee,
                Statement::allow()
                    .sid(sid(verb, self.queue.handle()))
                    .actions(actions.iter().copied())
                    .resource(key.clone()),
            ),
            None => Ok(()),
        }
    }
}

impl Reference for QueueRef {
    fn handle(&self) -> &ResourceHandle {
        self.queue.handle()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::resources::iam::Role;
    use crate::{App, AssetManifest};

    fn synth(stack: &Stack) -> Value {
        stack.synth(&AssetManifest::placeholders(&stack.assets())).unwrap().template
    }

    #[test]
    fn a_dead_letter_queue_is_made_before_its_queue_and_keeps_messages_fourteen_days() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let queue = stack.construct("Jobs", Queue::new().fifo().dead_letter_queue(5)).unwrap();
        assert!(queue.dead_letter_queue().is_some_and(QueueRef::is_fifo));
        let t = synth(&stack);
        let dead = &t["Resources"]["JobsDeadLetterQueue"]["Properties"];
        assert_eq!(dead["MessageRetentionPeriod"], 1_209_600);
        assert_eq!(dead["FifoQueue"], true);
        assert!(dead.get("RedrivePolicy").is_none());
        let jobs = &t["Resources"]["Jobs"]["Properties"];
        assert_eq!(
            jobs["RedrivePolicy"],
            json!({"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]}, "maxReceiveCount": 5})
        );
        let error =
            Stack::new(&App::new(), "S").unwrap().construct("Q", Queue::new().dead_letter_queue(0)).unwrap_err();
        assert!(error.to_string().starts_with("S/Q: RedrivePolicy.maxReceiveCount must be within 1..=1000"), "{error}");
        let error = Stack::new(&App::new(), "S")
            .unwrap()
            .construct("Q", Queue::new().visibility_timeout_seconds(50_000))
            .unwrap_err();
        assert!(error.to_string().contains("VisibilityTimeout"), "{error}");
    }

    #[test]
    fn grants_name_the_queue_and_with_a_customer_key_the_key() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let role = stack.add("Role", Role::for_service("lambda.amazonaws.com")).unwrap();
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let queue = stack.construct("Jobs", Queue::new().encryption(QueueEncryption::Kms(key.into()))).unwrap();
        queue.grant_consume(&mut stack, &role).unwrap();
        let t = synth(&stack);
        let statements = &t["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        assert_eq!(statements[0]["Sid"], "ConsumeJobs");
        assert_eq!(statements[0]["Resource"], json!([{"Fn::GetAtt": ["Jobs", "Arn"]}]));
        assert!(!statements[0]["Action"].to_string().contains("SendMessage"));
        assert_eq!(
            statements[1],
            json!({"Sid": "ConsumeKeyJobs", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key]})
        );
        assert_eq!(t["Resources"]["Jobs"]["Properties"]["KmsMasterKeyId"], key);
    }

    /// `grant_consume` and `grant_send` each give one statement with exactly the actions CDK's
    /// `grantConsumeMessages` and `grantSendMessages` give, on this queue's ARN alone (not its dead-letter queue),
    /// and with the AWS managed key no key statement.
    #[test]
    fn consume_and_send_give_exactly_their_actions_on_the_queue_only() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        let consumer = stack.add("Consumer", Role::for_service("lambda.amazonaws.com")).unwrap();
        let sender = stack.add("Sender", Role::for_service("lambda.amazonaws.com")).unwrap();
        let queue = stack.construct("Jobs", Queue::new().dead_letter_queue(3)).unwrap();
        queue.grant_consume(&mut stack, &consumer).unwrap();
        queue.grant_send(&mut stack, &sender).unwrap();
        let t = synth(&stack);
        let only = |role: &str| {
            let statements = t["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].clone();
            assert_eq!(statements.as_array().unwrap().len(), 1, "{statements:#}");
            statements[0].clone()
        };
        let consume = only("Consumer");
        assert_eq!(
            consume["Action"],
            json!([
                "sqs:ReceiveMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueUrl",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes"
            ])
        );
        assert_eq!(consume["Resource"], json!([{"Fn::GetAtt": ["Jobs", "Arn"]}]));
        let send = only("Sender");
        assert_eq!(send["Sid"], "SendJobs");
        assert_eq!(send["Action"], json!(["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]));
        assert_eq!(send["Resource"], json!([{"Fn::GetAtt": ["Jobs", "Arn"]}]));
    }

    #[test]
    fn sqs_managed_encryption_skips_the_kms_check_with_a_reason() {
        let mut stack = Stack::new(&App::new(), "S").unwrap();
        stack.construct("Jobs", Queue::new().encryption(QueueEncryption::SqsManaged)).unwrap();
        let t = synth(&stack);
        assert_eq!(t["Resources"]["Jobs"]["Properties"]["SqsManagedSseEnabled"], true);
        assert_eq!(t["Resources"]["Jobs"]["Metadata"]["checkov"]["skip"][0]["id"], "CKV_AWS_27");
    }
}
