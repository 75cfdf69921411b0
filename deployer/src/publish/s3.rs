//! Content-addressed uploads to S3.
//!
//! Existence is checked with `ListObjectsV2` on the key as prefix rather than `HeadObject`: a listing needs only
//! `s3:ListBucket`, answers "absent" without a 403/404 ambiguity, and gives the size, so an object cut short by a
//! killed upload is replaced.
//!
//! The asset bucket's name carries 8 hex digits of its bootstrap stack's id, so nobody can guess it and create it
//! first. Every call on it still carries `ExpectedBucketOwner`: S3 then refuses (403) to act on a bucket another
//! account owns, and no code or template leaves this account. A bucket in another region than the deployment's
//! answers 301 `PermanentRedirect`, reported with the region S3 names.

use aws_sdk_s3::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;

use crate::error::{DeployerError, Result};

/// What publishing one asset did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublishOutcome {
    /// The object was uploaded.
    Uploaded,
    /// An identical object was already there.
    AlreadyPublished,
}

/// The bootstrap stack's asset bucket, and the account that must own it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetBucket {
    /// The bucket's name.
    pub name: String,
    /// The 12-digit account id every call requires as the bucket's owner (the caller's own account).
    pub owner: String,
}

impl AssetBucket {
    /// Converts an S3 error on this bucket into the deployer's: a missing bucket, a bucket in another region and a
    /// bucket owned by another account each get their own remedy.
    pub(crate) fn error<E>(
        &self,
        operation: &'static str,
    ) -> impl FnOnce(SdkError<E, HttpResponse>) -> DeployerError + '_
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        move |error| {
            let message = crate::aws::service_message(&error);
            let code = message.split(':').next().unwrap_or_default().trim();
            let raw = error.raw_response();
            if code == "PermanentRedirect" || raw.is_some_and(|r| r.status().as_u16() == 301) {
                let region = raw.and_then(|r| r.headers().get("x-amz-bucket-region")).map(str::to_owned);
                return self.elsewhere(operation, region.as_deref());
            }
            match code {
                "NoSuchBucket" => self.missing(),
                "AccessDenied" => self.not_ours(operation, &message),
                _ => crate::aws::api_error(operation, message),
            }
        }
    }

    fn elsewhere(&self, operation: &str, region: Option<&str>) -> DeployerError {
        let region = region.map_or_else(|| "another region".to_owned(), |r| format!("region {r}"));
        DeployerError::BucketNotOwned(format!(
            "S3 answered {operation} on the asset bucket {bucket} with 301 PermanentRedirect: the bucket is in \
             {region}, not in the region this deployment uses. The bootstrap stack of this region should name a bucket \
             of its own region: check the region (`--region`, AWS_REGION, the profile's region) and \
             `aws cloudformation describe-stacks --stack-name {stack}` in it; nothing was uploaded",
            bucket = self.name,
            stack = crate::bootstrap::STACK_NAME,
        ))
    }

    fn missing(&self) -> DeployerError {
        DeployerError::NotFound {
            what: format!(
                "the asset bucket {} does not exist, although its bootstrap stack {} does: it was deleted outside \
                 CloudFormation",
                self.name,
                crate::bootstrap::STACK_NAME
            ),
            remedy: "run `deployer down --all` to remove the bootstrap stack, then `up` again to re-create both"
                .to_owned(),
            source: None,
        }
    }

    fn not_ours(&self, operation: &str, message: &str) -> DeployerError {
        DeployerError::BucketNotOwned(format!(
            "S3 refused {operation} on the asset bucket {bucket} ({message}) for a request that requires the \
             bucket to belong to account {owner}: either another AWS account owns a bucket of that name (the name is \
             predictable, so it can be taken once this account's bucket is deleted), or these credentials may not \
             use it. Nothing was uploaded. Run `aws s3api head-bucket --bucket {bucket} --expected-bucket-owner \
             {owner}`: if it also answers 403 while `aws sts get-caller-identity` names {owner} and your role may \
             use S3, the bucket is not yours; do not deploy with it, delete the bootstrap stack {stack} (`aws \
             cloudformation delete-stack --stack-name {stack}`) and deploy in another region until the name is \
             free. Otherwise grant the credentials s3:ListBucket and s3:PutObject on it",
            bucket = self.name,
            owner = self.owner,
            stack = crate::bootstrap::STACK_NAME,
        ))
    }
}

/// Whether `key` exists in `bucket` (with exactly `size` bytes, when the size is known).
pub(crate) async fn object_exists(
    s3: &aws_sdk_s3::Client,
    bucket: &AssetBucket,
    key: &str,
    size: Option<u64>,
) -> Result<bool> {
    let listing = s3
        .list_objects_v2()
        .bucket(&bucket.name)
        .expected_bucket_owner(&bucket.owner)
        .prefix(key)
        .max_keys(1)
        .send()
        .await
        .map_err(bucket.error("S3.ListObjectsV2"))?;
    Ok(listing.contents().iter().any(|o| {
        o.key() == Some(key) && size.is_none_or(|size| o.size().and_then(|s| u64::try_from(s).ok()) == Some(size))
    }))
}

/// The user metadata an asset object carries: the SHA-256 of its bytes, which a function's versions are named
/// after, so `diff` and a later `up` know it without downloading or building anything.
pub(crate) const CODE_SHA256_METADATA: &str = "code-sha256";

/// Uploads the zip at `zip_path` (`bytes` long, whose bytes hash to `code_sha256`) under `key` unless an object of
/// that size is already there.
pub(crate) async fn publish_asset(
    s3: &aws_sdk_s3::Client,
    bucket: &AssetBucket,
    key: &str,
    zip_path: &std::path::Path,
    bytes: u64,
    code_sha256: &str,
) -> Result<PublishOutcome> {
    if object_exists(s3, bucket, key, Some(bytes)).await? {
        return Ok(PublishOutcome::AlreadyPublished);
    }
    let body = ByteStream::from_path(zip_path).await.map_err(|e| DeployerError::Io {
        action: "read",
        path: zip_path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    put(s3, bucket, key, body, "application/zip", Some((CODE_SHA256_METADATA, code_sha256))).await?;
    Ok(PublishOutcome::Uploaded)
}

/// The SHA-256 of the bytes of asset object `key`, as recorded when it was uploaded; `None` for an object
/// uploaded without it (by an earlier deployer) or missing.
pub(crate) async fn code_sha256(s3: &aws_sdk_s3::Client, bucket: &AssetBucket, key: &str) -> Result<Option<String>> {
    let head = s3.head_object().bucket(&bucket.name).expected_bucket_owner(&bucket.owner).key(key).send().await;
    match head {
        Ok(head) => Ok(head.metadata().and_then(|m| m.get(CODE_SHA256_METADATA)).cloned()),
        Err(e)
            if e.as_service_error().is_some_and(aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found) =>
        {
            Ok(None)
        }
        Err(e) => Err(bucket.error("S3.HeadObject")(e)),
    }
}

/// Uploads `body` under `key`, with one item of user metadata when given.
pub(crate) async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &AssetBucket,
    key: &str,
    body: ByteStream,
    content_type: &str,
    metadata: Option<(&str, &str)>,
) -> Result<()> {
    let mut request =
        s3.put_object().bucket(&bucket.name).expected_bucket_owner(&bucket.owner).key(key).content_type(content_type);
    if let Some((name, value)) = metadata {
        request = request.metadata(name, value);
    }
    request.body(body).send().await.map_err(bucket.error("S3.PutObject"))?;
    Ok(())
}

/// The HTTPS URL of `key` in `bucket`, in the partition `region` belongs to (`amazonaws.com`, `amazonaws.com.cn`,
/// ...), resolved by the S3 SDK's own endpoint rules: what CloudFormation accepts as a `TemplateURL`.
pub(crate) async fn object_url(bucket: &str, region: &str, key: &str) -> Result<String> {
    let cannot = |detail: String| {
        DeployerError::DeployFailed(format!(
            "cannot build the S3 URL of s3://{bucket}/{key} in region {region} ({detail}); check `--region`"
        ))
    };
    let params = Params::builder()
        .bucket(bucket)
        .region(region)
        .use_fips(false)
        .use_dual_stack(false)
        .force_path_style(false)
        .accelerate(false)
        .build()
        .map_err(|e| cannot(e.to_string()))?;
    let endpoint = DefaultResolver::new().resolve_endpoint(&params).await.map_err(|e| cannot(e.to_string()))?;
    Ok(format!("{}/{key}", endpoint.url().trim_end_matches('/')))
}
