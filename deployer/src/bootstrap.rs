//! The bootstrap stack (like `cdk bootstrap`): one S3 bucket per account and region holding the code assets. It is
//! the deployer's own stack, written with the construct library, and never part of an app.
//!
//! The bucket is encrypted (SSE-KMS with the AWS managed key), blocks all public access, disables ACLs, keeps
//! versions and expires noncurrent ones after 30 days, aborts stale multipart uploads and denies requests that do
//! not use TLS.

use constructs::asset::bucket_name_expr;
use constructs::reference::{Reference, Sub};
use constructs::resources::iam::{PolicyDocument, Principal, Statement};
use constructs::resources::s3::{Bucket, BucketEncryption, BucketPolicy, LifecycleRule};
use constructs::{App, AssetManifest, Output, RemovalPolicy, Stack, StackKind, SynthError, SynthesizedStack};

/// Name of the bootstrap stack.
pub(crate) const STACK_NAME: &str = "DurableDeployerToolkit";
/// Logical ID of the asset bucket.
pub(crate) const BUCKET_LOGICAL_ID: &str = "AssetBucket";
/// Output holding the asset bucket's name.
pub(crate) const BUCKET_NAME_OUTPUT: &str = "AssetBucketName";
/// Output holding [`VERSION`].
pub(crate) const VERSION_OUTPUT: &str = "BootstrapVersion";
/// Version of the bootstrap template; raised whenever it changes in a way a deployer may need to know.
pub(crate) const VERSION: u32 = 1;
/// Days a replaced asset version is kept.
pub(crate) const NONCURRENT_VERSION_DAYS: u32 = 30;

/// The asset bucket's name in `account` and `region`: what `BucketName` evaluates to there.
pub(crate) fn bucket_name(account: &str, region: &str) -> String {
    constructs::asset::bucket_name(account, region)
}

/// The bootstrap stack, synthesized (it declares no asset).
pub(crate) fn synth() -> Result<SynthesizedStack, SynthError> {
    stack()?.synth(&AssetManifest::new())
}

/// The bootstrap stack.
fn stack() -> Result<Stack, SynthError> {
    let mut stack = Stack::with_kind(&App::new(), STACK_NAME, StackKind::Bootstrap)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    #[test]
    fn bootstrap_template() {
        let stack = synth().unwrap();
        assert_eq!((stack.stack_name.as_str(), stack.kind), (STACK_NAME, StackKind::Bootstrap));
        insta::assert_json_snapshot!("bootstrap_template", stack.template);
    }

    #[test]
    fn the_asset_bucket_is_named_after_the_account_and_region() {
        let template = synth().unwrap().template;
        assert_eq!(
            template["Resources"][BUCKET_LOGICAL_ID]["Properties"]["BucketName"],
            json!({"Fn::Sub": "durable-deployer-assets-${AWS::AccountId}-${AWS::Region}"})
        );
        assert_eq!(bucket_name("123456789012", "eu-west-1"), "durable-deployer-assets-123456789012-eu-west-1");
    }

    /// The asset bucket refuses every plain-HTTP request, on the bucket and on its objects, whatever the action:
    /// one broad Deny, as AWS Config's `s3-bucket-ssl-requests-only` rule expects (a list of actions left ACL and
    /// tagging calls open over HTTP).
    #[test]
    fn the_asset_bucket_denies_all_of_s3_without_tls() {
        let template = synth().unwrap().template;
        let policy = &template["Resources"]["AssetBucketPolicy"]["Properties"];
        assert_eq!(policy["Bucket"], json!({"Ref": BUCKET_LOGICAL_ID}));
        let statements = policy["PolicyDocument"]["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1, "{statements:?}");
        let deny = &statements[0];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Principal"], "*");
        assert_eq!(deny["Action"], json!(["s3:*"]));
        assert_eq!(
            deny["Resource"],
            json!([
                {"Fn::GetAtt": [BUCKET_LOGICAL_ID, "Arn"]},
                {"Fn::Sub": format!("${{{BUCKET_LOGICAL_ID}.Arn}}/*")}
            ])
        );
        assert!(deny.get("NotResource").is_none(), "{deny}");
        assert_eq!(deny["Condition"], json!({"Bool": {"aws:SecureTransport": "false"}}));
    }
}
