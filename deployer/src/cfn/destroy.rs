//! Deleting stacks, and emptying the asset bucket before the bootstrap stack goes.

use serde_json::Value;

use super::monitor::{EventCursor, watch};
use super::stack;
use crate::aws::aws_error;
use crate::error::{DeployerError, Result};
use crate::io::{Event, Host};

/// How a delete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestroyOutcome {
    /// The stack was deleted.
    Deleted,
    /// There was no such stack.
    NothingToDelete,
}

/// Deletes `name` and waits until it is gone.
pub async fn destroy_stack(
    cfn: &aws_sdk_cloudformation::Client,
    name: &str,
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
    let outcome = watch(cfn, &info.id, name, cursor, total, host).await?;
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

/// Deletes every object version and delete marker in `bucket`, so CloudFormation can delete it.
pub async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<usize> {
    let mut removed = 0;
    loop {
        let page = match s3.list_object_versions().bucket(bucket).send().await {
            Ok(page) => page,
            // Already gone: nothing to empty, and CloudFormation deletes a missing bucket without complaint.
            Err(e) if crate::aws::service_message(&e).contains("NoSuchBucket") => return Ok(removed),
            Err(e) => return Err(aws_error("S3.ListObjectVersions")(e)),
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
            let plain = s3.list_objects_v2().bucket(bucket).send().await.map_err(aws_error("S3.ListObjectsV2"))?;
            let keys: Vec<String> = plain.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
            if keys.is_empty() {
                return Ok(removed);
            }
            for key in keys {
                s3.delete_object().bucket(bucket).key(&key).send().await.map_err(aws_error("S3.DeleteObject"))?;
                removed += 1;
            }
            continue;
        }
        for (key, version) in ids {
            s3.delete_object()
                .bucket(bucket)
                .key(&key)
                .set_version_id(version)
                .send()
                .await
                .map_err(aws_error("S3.DeleteObject"))?;
            removed += 1;
        }
    }
}
