//! Content-addressed uploads to S3.
//!
//! Existence is checked with `ListObjectsV2` on the key as prefix rather than `HeadObject`: a listing needs only
//! `s3:ListBucket`, answers "absent" without a 403/404 ambiguity, and gives the size, so an object cut short by a
//! killed upload is replaced.

use aws_sdk_s3::primitives::ByteStream;

use crate::aws::aws_error;
use crate::error::{DeployerError, Result};
use crate::package::PackagedAsset;

/// What publishing one asset did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// The object was uploaded.
    Uploaded,
    /// An identical object was already there.
    AlreadyPublished,
}

/// Whether `key` exists in `bucket` with exactly `size` bytes.
pub async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, size: u64) -> Result<bool> {
    let listing = s3.list_objects_v2().bucket(bucket).prefix(key).max_keys(1).send().await.map_err(|e| {
        let message = crate::aws::service_message(&e);
        if message.contains("NoSuchBucket") {
            DeployerError::DeployFailed(format!(
                "the asset bucket {bucket} does not exist, although its bootstrap stack {} does: it was deleted \
                     outside CloudFormation. Run `deployer down --all` to remove the bootstrap stack, then `up` again \
                     to re-create both",
                stacks::bootstrap::STACK_NAME
            ))
        } else {
            crate::aws::api_error("S3.ListObjectsV2", message)
        }
    })?;
    Ok(listing
        .contents()
        .iter()
        .any(|o| o.key() == Some(key) && o.size().and_then(|s| u64::try_from(s).ok()) == Some(size)))
}

/// Uploads `asset` under its content key unless it is already published.
pub async fn publish_asset(s3: &aws_sdk_s3::Client, bucket: &str, asset: &PackagedAsset) -> Result<PublishOutcome> {
    let key = asset.object_key();
    if object_exists(s3, bucket, &key, asset.bytes).await? {
        return Ok(PublishOutcome::AlreadyPublished);
    }
    put_file(s3, bucket, &key, &asset.zip_path, "application/zip").await?;
    Ok(PublishOutcome::Uploaded)
}

/// Uploads a file.
pub async fn put_file(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &std::path::Path,
    content_type: &str,
) -> Result<()> {
    let body = ByteStream::from_path(path).await.map_err(|e| DeployerError::Io {
        action: "read",
        path: path.into(),
        source: std::io::Error::other(e),
    })?;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(body)
        .send()
        .await
        .map_err(aws_error("S3.PutObject"))?;
    Ok(())
}
