//! `up`: build → package → publish → deploy → watch, for every stack of the app.

use std::collections::BTreeMap;

use crate::aws::Aws;
use crate::build::BuildTarget;
use crate::cfn::approval::RequireApproval;
use crate::cfn::deploy::{DeployOutcome, DeployRequest, Limits, deploy_stack};
use crate::cli::UpArgs;
use crate::error::{DeployerError, Result};
use crate::interrupt::Interrupt;
use crate::io::Event;
use crate::publish::{AssetBucket, PublishOutcome, publish_asset};

use super::{Context, Prepared, prepare, write_templates};

/// Runs `up`.
pub async fn run(ctx: &Context, args: &UpArgs) -> Result<()> {
    if ctx.global.local {
        return super::local::up(ctx, args).await;
    }
    let _lock = crate::lock::acquire(&ctx.workspace.lock_dir(), &ctx.global.stack_name)?;
    let host = ctx.host.clone();
    let interrupt = Interrupt::listen(move || {
        host.notify(Event::Warning {
            message: "Ctrl-C: stopping at the next safe point (a change set not executed yet is deleted; one being \
                      executed is left to CloudFormation). Press Ctrl-C again to exit at once"
                .into(),
        });
    });
    let prepared = match prepare(ctx, BuildTarget::Lambda(ctx.global.arch)) {
        // cargo got the same Ctrl-C from the terminal and stopped: say so rather than report a failed build.
        Err(_) if interrupt.is_requested() => return Err(stopped_before_deploying("while building")),
        prepared => prepared?,
    };
    write_templates(&prepared.assembly, &ctx.workspace.synth_dir())?;
    let aws = ctx.aws().await?;
    let outputs = deploy(ctx, &aws, &prepared, args.require_approval, &interrupt).await?;
    report_outputs(ctx, &outputs, args.outputs_file.as_deref())
}

/// Ctrl-C before any stack was touched.
fn stopped_before_deploying(when: &str) -> DeployerError {
    DeployerError::Interrupted(format!(
        "stopped {when}; no stack was changed. Run `deployer up` again to continue (assets already uploaded are \
         reused)"
    ))
}

/// Deploys a prepared app: the bootstrap stack, the assets, then each app stack. Returns the app stacks' outputs.
pub async fn deploy(
    ctx: &Context,
    aws: &Aws,
    prepared: &Prepared,
    require_approval: RequireApproval,
    interrupt: &Interrupt,
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let host = ctx.host.as_ref();
    if interrupt.is_requested() {
        return Err(stopped_before_deploying("after building"));
    }
    let account = aws.account_id().await?;
    let bucket = AssetBucket::of(&account, &aws.region);
    if let Some(bootstrap) = prepared.bootstrap() {
        host.notify(Event::Stage { stage: "bootstrap".into(), message: format!("asset bucket {}", bucket.name) });
        // The bootstrap stack only narrows access (a deny-non-TLS bucket policy): it never needs approval.
        let request = DeployRequest {
            stack: &bootstrap.stack_name,
            template: &bootstrap.template,
            template_body: &bootstrap.template_body,
            parameters: vec![],
            tags: vec![],
            require_approval: RequireApproval::Never,
            template_bucket: None,
            interrupt,
            limits: Limits::default(),
        };
        deploy_stack(aws, &request, host).await.map_err(|e| name_taken(e, &bucket))?;
    }
    host.notify(Event::Stage {
        stage: "publish".into(),
        message: format!("{} asset(s) to s3://{}", prepared.assets.len(), bucket.name),
    });
    for asset in &prepared.assets {
        let key = asset.packaged.object_key();
        // An upload cut off by Ctrl-C leaves no object: S3 stores an object only once all of it has arrived.
        let published = tokio::select! {
            biased;
            () = interrupt.requested() => return Err(stopped_before_deploying("while uploading assets")),
            published = publish_asset(&aws.s3, &bucket, &asset.packaged) => published?,
        };
        let event = match published {
            PublishOutcome::Uploaded => {
                Event::AssetUploaded { key, bucket: bucket.name.clone(), bytes: asset.packaged.bytes }
            }
            PublishOutcome::AlreadyPublished => Event::AssetSkipped { key, bucket: bucket.name.clone() },
        };
        host.notify(event);
    }
    let mut all_outputs = BTreeMap::new();
    for stack in prepared.app_stacks() {
        if interrupt.is_requested() {
            return Err(DeployerError::Interrupted(format!(
                "stopped before deploying {}; the stacks before it are deployed. Run `deployer up` again to continue",
                stack.stack_name
            )));
        }
        host.notify(Event::Stage { stage: "deploy".into(), message: format!("stack {}", stack.stack_name) });
        let request = DeployRequest {
            stack: &stack.stack_name,
            template: &stack.template,
            template_body: &stack.template_body,
            parameters: vec![],
            tags: vec![],
            require_approval,
            template_bucket: Some(&bucket),
            interrupt,
            limits: Limits::default(),
        };
        let outputs = match deploy_stack(aws, &request, host).await? {
            DeployOutcome::NoChanges { outputs } | DeployOutcome::Deployed { outputs, .. } => outputs,
        };
        all_outputs.insert(stack.stack_name.clone(), outputs);
    }
    Ok(all_outputs)
}

/// A bootstrap stack that failed because a bucket of the asset bucket's name already exists: in this account (left
/// by an earlier bootstrap whose stack is gone) or in another one (the name is predictable). Both need a person.
fn name_taken(error: DeployerError, bucket: &AssetBucket) -> DeployerError {
    let DeployerError::DeployFailed(message) = &error else {
        return error;
    };
    if !(message.contains(stacks::bootstrap::BUCKET_LOGICAL_ID) && message.contains("already exists")) {
        return error;
    }
    DeployerError::BucketNotOwned(format!(
        "{message}. The asset bucket's name {name} is taken. Run `aws s3api head-bucket --bucket {name} \
         --expected-bucket-owner {owner}`: if it succeeds, the bucket is yours, left by an earlier bootstrap; empty \
         and delete it (`aws s3 rb s3://{name} --force`) and run `up` again. If it answers 403, another AWS account \
         owns that name: the deployer will not use it, so deploy in another region",
        name = bucket.name,
        owner = bucket.owner,
    ))
}

/// Prints each stack's outputs and writes them all to `file` when asked.
pub fn report_outputs(
    ctx: &Context,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    file: Option<&std::path::Path>,
) -> Result<()> {
    for (stack, values) in outputs {
        ctx.host.notify(Event::Outputs { stack: stack.clone(), outputs: values.clone() });
    }
    if let Some(path) = file {
        let text = serde_json::to_string_pretty(outputs).map_err(|e| DeployerError::Usage(e.to_string()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DeployerError::io("create", dir, e))?;
        }
        std::fs::write(path, text + "\n").map_err(|e| DeployerError::io("write", path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_asset_bucket_name_says_how_to_tell_whose_it_is() {
        let bucket = AssetBucket::of("123456789012", "eu-west-1");
        let failed = DeployerError::DeployFailed(format!(
            "deploying DurableDeployerToolkit ended in ROLLBACK_COMPLETE: AssetBucket CREATE_FAILED: {} already exists",
            bucket.name
        ));
        let text = name_taken(failed, &bucket).to_string();
        assert!(text.contains("--expected-bucket-owner 123456789012"), "{text}");
        assert!(text.contains(&format!("aws s3 rb s3://{} --force", bucket.name)), "{text}");
        let other =
            DeployerError::DeployFailed("deploying X ended in ROLLBACK_COMPLETE: Role CREATE_FAILED: denied".into());
        assert_eq!(
            name_taken(other, &bucket).to_string(),
            "deploying X ended in ROLLBACK_COMPLETE: Role CREATE_FAILED: denied"
        );
    }
}
