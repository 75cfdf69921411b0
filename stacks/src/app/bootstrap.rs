//! The bootstrap stack (like `cdk bootstrap`): one S3 bucket per account and region holding the code assets.
//!
//! The bucket is encrypted (SSE-KMS with the AWS managed key), blocks all public access, disables ACLs, keeps
//! versions and expires noncurrent ones after 30 days, aborts stale multipart uploads and denies requests that do
//! not use TLS.

use crate::asset::bucket_name_expr;
use crate::construct::{Output, Stack};
use crate::error::SynthError;
use crate::reference::Reference;
use crate::resources::iam::{PolicyDocument, Principal, Statement};
use crate::resources::s3::{Bucket, BucketEncryption, BucketPolicy, LifecycleRule};
use crate::synth::StackKind;
use crate::template::RemovalPolicy;

/// Name of the bootstrap stack.
pub const STACK_NAME: &str = "DurableDeployerToolkit";
/// Logical ID of the asset bucket.
pub const BUCKET_LOGICAL_ID: &str = "AssetBucket";
/// Output holding the asset bucket's name.
pub const BUCKET_NAME_OUTPUT: &str = "AssetBucketName";
/// Output holding [`VERSION`].
pub const VERSION_OUTPUT: &str = "BootstrapVersion";
/// Version of the bootstrap template; raised whenever it changes in a way a deployer may need to know.
pub const VERSION: u32 = 1;
/// Days a replaced asset version is kept.
pub const NONCURRENT_VERSION_DAYS: u32 = 30;

/// Bucket-level actions denied without TLS.
const BUCKET_ACTIONS: &[&str] = &[
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:GetBucketLocation",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
];

/// Object-level actions denied without TLS.
const OBJECT_ACTIONS: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectAttributes",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAttributes",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:RestoreObject",
];

/// The asset bucket's name in `account` and `region`: what `BucketName` evaluates to there.
pub fn bucket_name(account: &str, region: &str) -> String {
    crate::asset::bucket_name(account, region)
}

/// The bootstrap stack.
pub fn stack() -> Result<Stack, SynthError> {
    let mut stack = Stack::with_kind(STACK_NAME, StackKind::Bootstrap)?;
    stack.set_description("Asset bucket of the durable deployer (like cdk bootstrap): function code by content hash");
    let bucket = stack.add(
        BUCKET_LOGICAL_ID,
        Bucket::new()
            .name(bucket_name_expr())
            .encryption(BucketEncryption::KmsManaged)
            .versioned()
            .lifecycle_rule(LifecycleRule {
                id: "ExpireNoncurrentVersions".to_owned(),
                noncurrent_version_expiration_days: Some(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_days: Some(1),
            })
            // Deleted with its stack: `down --all` empties it first, and a retained bucket would keep its fixed
            // name taken, so the next bootstrap in this account and region would fail.
            .removal_policy(RemovalPolicy::Delete),
    )?;
    stack.skip_check(
        &bucket,
        "CKV_AWS_18",
        "access logging needs a second bucket; this one only holds build outputs written by the deployer",
    )?;
    // Deny plain-HTTP requests. The bucket statement names the bucket ARN; the object statement uses
    // NotResource on the bucket ARN, which in a bucket policy matches exactly the bucket's objects, so no
    // `<bucket arn>/*` wildcard is needed.
    let insecure =
        |statement: Statement| statement.principal(Principal::Anyone).condition("Bool", "aws:SecureTransport", "false");
    stack.add(
        "AssetBucketPolicy",
        BucketPolicy::new(
            &bucket,
            PolicyDocument::new()
                .statement(insecure(
                    Statement::deny()
                        .sid("DenyInsecureTransportToBucket")
                        .actions(BUCKET_ACTIONS.iter().copied())
                        .resource(bucket.arn()),
                ))
                .statement(insecure(
                    Statement::deny()
                        .sid("DenyInsecureTransportToObjects")
                        .actions(OBJECT_ACTIONS.iter().copied())
                        .not_resource(bucket.arn()),
                )),
        ),
    )?;
    stack.add_output(
        BUCKET_NAME_OUTPUT,
        Output::new(bucket.ref_()).description("Name of the bucket the deployer uploads <sha256>.zip assets to"),
    )?;
    stack.add_output(
        VERSION_OUTPUT,
        Output::new(VERSION.to_string()).description("Version of this bootstrap template"),
    )?;
    Ok(stack)
}
