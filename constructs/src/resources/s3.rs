//! S3: `AWS::S3::Bucket` (encrypted, private, versioned, with lifecycle rules) and `AWS::S3::BucketPolicy`.

use serde_json::{Value, json};

use super::iam::PolicyDocument;
use super::sealed::{MakeRef, Synthesize};
use super::{Props, Resource};
use crate::error::SynthError;
use crate::reference::{BucketPolicyRef, BucketRef, Expr, Reference, ResourceHandle};
use crate::synth::RenderContext;
use crate::template::RemovalPolicy;

/// Default encryption of new objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BucketEncryption {
    /// SSE-S3 (`AES256`).
    S3Managed,
    /// SSE-KMS with the AWS managed key `aws/s3` and an S3 bucket key.
    #[default]
    KmsManaged,
}

/// A lifecycle rule applying to the whole bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LifecycleRule {
    /// Rule id.
    pub id: String,
    /// Delete object versions this many days after they stop being current.
    pub noncurrent_version_expiration_days: Option<u32>,
    /// Abort multipart uploads still incomplete after this many days.
    pub abort_incomplete_multipart_upload_days: Option<u32>,
}

/// An `AWS::S3::Bucket`. By default: SSE-KMS, all public access blocked, ACLs disabled, retained on delete.
#[derive(Clone, Debug)]
#[must_use]
pub struct Bucket {
    name: Option<Expr>,
    encryption: BucketEncryption,
    versioned: bool,
    lifecycle_rules: Vec<LifecycleRule>,
    removal_policy: RemovalPolicy,
}

impl Default for Bucket {
    fn default() -> Self {
        Self::new()
    }
}

impl Bucket {
    /// A private, encrypted bucket with a generated name.
    pub fn new() -> Self {
        Self {
            name: None,
            encryption: BucketEncryption::default(),
            versioned: false,
            lifecycle_rules: Vec::new(),
            removal_policy: RemovalPolicy::Retain,
        }
    }

    /// Sets an explicit `BucketName`.
    pub fn name(mut self, name: impl Into<Expr>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the default encryption.
    pub fn encryption(mut self, encryption: BucketEncryption) -> Self {
        self.encryption = encryption;
        self
    }

    /// Turns versioning on.
    pub fn versioned(mut self) -> Self {
        self.versioned = true;
        self
    }

    /// Adds a lifecycle rule.
    pub fn lifecycle_rule(mut self, rule: LifecycleRule) -> Self {
        self.lifecycle_rules.push(rule);
        self
    }

    /// Sets what happens to the bucket when the stack deletes or replaces it.
    pub fn removal_policy(mut self, policy: RemovalPolicy) -> Self {
        self.removal_policy = policy;
        self
    }
}

impl Synthesize for Bucket {
    fn resource_type(&self) -> &'static str {
        "AWS::S3::Bucket"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        if let Some(name) = self.name.as_ref().and_then(Expr::as_literal) {
            let valid = (3..=63).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !valid {
                return Err(SynthError::invalid(path, format!("BucketName `{name}` must be 3 to 63 of [a-z0-9.-]")));
            }
        }
        for rule in &self.lifecycle_rules {
            if rule.id.is_empty() || rule.id.len() > 255 {
                return Err(SynthError::invalid(path, "a lifecycle rule id must be 1 to 255 characters"));
            }
            let days = [rule.noncurrent_version_expiration_days, rule.abort_incomplete_multipart_upload_days];
            if days.iter().all(Option::is_none) {
                return Err(SynthError::invalid(path, format!("lifecycle rule {} has no action", rule.id)));
            }
            if days.contains(&Some(0)) {
                return Err(SynthError::invalid(path, format!("lifecycle rule {} needs days of at least 1", rule.id)));
            }
            if rule.noncurrent_version_expiration_days.is_some() && !self.versioned {
                return Err(SynthError::invalid(
                    path,
                    format!("lifecycle rule {} expires noncurrent versions of an unversioned bucket", rule.id),
                ));
            }
        }
        Ok(())
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        let by_default = match self.encryption {
            BucketEncryption::S3Managed => json!({ "SSEAlgorithm": "AES256" }),
            BucketEncryption::KmsManaged => json!({ "SSEAlgorithm": "aws:kms" }),
        };
        let encryption = json!({
            "ServerSideEncryptionConfiguration": [{
                "BucketKeyEnabled": self.encryption == BucketEncryption::KmsManaged,
                "ServerSideEncryptionByDefault": by_default,
            }],
        });
        let rules: Vec<Value> = self
            .lifecycle_rules
            .iter()
            .map(|r| {
                Props::new()
                    .set_opt(
                        "AbortIncompleteMultipartUpload",
                        r.abort_incomplete_multipart_upload_days.map(|d| json!({ "DaysAfterInitiation": d })),
                    )
                    .set("Id", r.id.clone())
                    .set_opt(
                        "NoncurrentVersionExpiration",
                        r.noncurrent_version_expiration_days.map(|d| json!({ "NoncurrentDays": d })),
                    )
                    .set("Status", "Enabled")
                    .build()
            })
            .collect();
        let name = self.name.as_ref().map(|n| n.render(cx)).transpose()?;
        Ok(Props::new()
            .set("BucketEncryption", encryption)
            .set_opt("BucketName", name)
            .set_opt("LifecycleConfiguration", (!rules.is_empty()).then(|| json!({ "Rules": rules })))
            .set("OwnershipControls", json!({ "Rules": [{ "ObjectOwnership": "BucketOwnerEnforced" }] }))
            .set(
                "PublicAccessBlockConfiguration",
                json!({
                    "BlockPublicAcls": true,
                    "BlockPublicPolicy": true,
                    "IgnorePublicAcls": true,
                    "RestrictPublicBuckets": true,
                }),
            )
            .set_opt("VersioningConfiguration", self.versioned.then(|| json!({ "Status": "Enabled" })))
            .build())
    }

    fn removal_policy(&self) -> Option<RemovalPolicy> {
        Some(self.removal_policy)
    }
}

impl MakeRef for Bucket {
    type Ref = BucketRef;
    fn make_ref(&self, handle: ResourceHandle) -> BucketRef {
        BucketRef::new(handle)
    }
}

impl Resource for Bucket {}

/// An `AWS::S3::BucketPolicy`.
#[derive(Clone, Debug)]
#[must_use]
pub struct BucketPolicy {
    bucket: BucketRef,
    document: PolicyDocument,
}

impl BucketPolicy {
    /// The policy of `bucket`.
    pub fn new(bucket: &BucketRef, document: PolicyDocument) -> Self {
        Self { bucket: bucket.clone(), document }
    }
}

impl Synthesize for BucketPolicy {
    fn resource_type(&self) -> &'static str {
        "AWS::S3::BucketPolicy"
    }

    fn validate(&self, path: &str) -> Result<(), SynthError> {
        self.document.validate(path)
    }

    fn properties(&self, cx: &RenderContext<'_>) -> Result<Value, SynthError> {
        Ok(Props::new()
            .set("Bucket", self.bucket.ref_().render(cx)?)
            .set("PolicyDocument", self.document.render(cx)?)
            .build())
    }
}

impl MakeRef for BucketPolicy {
    type Ref = BucketPolicyRef;
    fn make_ref(&self, handle: ResourceHandle) -> BucketPolicyRef {
        BucketPolicyRef::new(handle)
    }
}

impl Resource for BucketPolicy {}
