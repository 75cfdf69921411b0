//! Deleting stacks, and emptying the asset bucket before the bootstrap stack goes.

use std::time::Duration;

use serde_json::Value;

use super::monitor::{EventCursor, Operation, watch};
use super::stack;
use crate::aws::aws_error;
use crate::error::{DeployerError, Result};
use crate::io::{Event, Host};
use crate::publish::AssetBucket;

/// How a delete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DestroyOutcome {
    /// The stack was deleted.
    Deleted,
    /// There was no such stack.
    NothingToDelete,
}

/// Deletes `name` and waits until it is gone, at most `limit`.
pub(crate) async fn destroy_stack(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
    limit: std::time::Duration,
    host: &dyn Host,
) -> Result<DestroyOutcome> {
    let Some(info) = stack::describe(cfn, name).await? else {
        host.notify(Event::NothingToDelete { stack: name.to_owned() });
        return Ok(DestroyOutcome::NothingToDelete);
    };
    let total = stack::deployed_template(cfn, name)
        .await
        .ok()
        .flatten()
        .and_then(|t: Value| t.get("Resources").and_then(Value::as_object).map(serde_json::Map::len))
        .unwrap_or(0);
    let cursor = EventCursor::at_now(cfn, name).await?;
    cfn.delete_stack().stack_name(&info.id).send().await.map_err(aws_error("CloudFormation.DeleteStack"))?;
    let outcome = watch(cfn, &info.id, name, cursor, Operation::Delete, total, limit, host).await?;
    if outcome.status == "DELETE_COMPLETE" {
        Ok(DestroyOutcome::Deleted)
    } else {
        if !outcome.failures.is_empty() {
            host.notify(Event::FailureRecap { stack: name.to_owned(), failures: outcome.failures.clone() });
        }
        Err(DeployerError::DeployFailed(format!(
            "deleting {name} ended in {}; remove what holds the failed resources above, then run `down` again",
            outcome.status
        )))
    }
}

/// The longest `down --all` spends emptying the asset bucket before it stops and says how far it got.
pub(crate) const EMPTY_BUCKET_LIMIT: Duration = Duration::from_mins(30);

/// Deletes every object version and delete marker in `bucket`, so CloudFormation can delete it; gives up after
/// `limit` saying how many versions it removed and how to go on.
pub(crate) async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &AssetBucket, limit: Duration) -> Result<usize> {
    let started = tokio::time::Instant::now();
    let mut removed = 0;
    loop {
        if started.elapsed() >= limit {
            return Err(DeployerError::TimedOut(format!(
                "stopped emptying s3://{name} after {} min with {removed} object version(s) deleted; S3 keeps the \
                 rest and nothing else was changed. See what is left with `aws s3api list-object-versions --bucket \
                 {name} --max-items 10`, and run `deployer down --all` again to go on",
                limit.as_secs().div_ceil(60),
                name = bucket.name,
            )));
        }
        let page =
            match s3.list_object_versions().bucket(&bucket.name).expected_bucket_owner(&bucket.owner).send().await {
                Ok(page) => page,
                // Already gone: nothing to empty, and CloudFormation deletes a missing bucket without complaint.
                Err(e) if crate::aws::service_message(&e).contains("NoSuchBucket") => return Ok(removed),
                Err(e) => return Err(bucket.error("S3.ListObjectVersions")(e)),
            };
        let mut ids = Vec::new();
        for v in page.versions() {
            ids.push((v.key().unwrap_or_default().to_owned(), v.version_id().map(str::to_owned)));
        }
        for m in page.delete_markers() {
            ids.push((m.key().unwrap_or_default().to_owned(), m.version_id().map(str::to_owned)));
        }
        if ids.is_empty() {
            // Emulators without versioning list nothing here: fall back to plain objects.
            let plain = s3
                .list_objects_v2()
                .bucket(&bucket.name)
                .expected_bucket_owner(&bucket.owner)
                .send()
                .await
                .map_err(bucket.error("S3.ListObjectsV2"))?;
            let keys: Vec<String> = plain.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
            if keys.is_empty() {
                return Ok(removed);
            }
            for key in keys {
                s3.delete_object()
                    .bucket(&bucket.name)
                    .expected_bucket_owner(&bucket.owner)
                    .key(&key)
                    .send()
                    .await
                    .map_err(bucket.error("S3.DeleteObject"))?;
                removed += 1;
            }
            continue;
        }
        for (key, version) in ids {
            s3.delete_object()
                .bucket(&bucket.name)
                .expected_bucket_owner(&bucket.owner)
                .key(&key)
                .set_version_id(version)
                .send()
                .await
                .map_err(bucket.error("S3.DeleteObject"))?;
            removed += 1;
        }
    }
}
