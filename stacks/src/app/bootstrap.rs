//! The bootstrap stack (like `cdk bootstrap`): one S3 bucket per account and region holding the code assets.
//!
//! The bucket is encrypted (SSE-KMS with the AWS managed key), blocks all public access, disables ACLs, keeps
//! versions and expires noncurrent ones after 30 days, aborts stale multipart uploads and denies requests that do
//! not use TLS.

use crate::asset::bucket_name_expr;
use crate::construct::{Output, Stack};
use crate::error::SynthError;
use crate::reference::{Reference, Sub};
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
    // Plain-HTTP requests are denied whatever they ask for, on the bucket and on every object in it: the form AWS
    // Config's `s3-bucket-ssl-requests-only` rule looks for. A list of actions would leave every action not on it
    // (ACLs, tagging, ...) open over HTTP.
    stack.add(
        "AssetBucketPolicy",
        BucketPolicy::new(
            &bucket,
            PolicyDocument::new().statement(
                Statement::deny()
                    .sid("DenyInsecureTransport")
                    .principal(Principal::Anyone)
                    .actions(["s3:*"])
                    .resource(bucket.arn())
                    .resource(Sub::new().value(bucket.arn()).text("/*").build())
                    .condition("Bool", "aws:SecureTransport", "false"),
            ),
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
