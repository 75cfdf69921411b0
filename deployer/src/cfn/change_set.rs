//! Change sets: create one, wait until CloudFormation has computed it, read it, execute or delete it.

use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};

use super::status::is_no_change_reason;
use crate::aws::{aws_error, service_message};
use crate::error::{DeployerError, Result};
pub(crate) use crate::payloads::changes::PlannedChange;

/// Where the template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TemplateSource {
    /// Inline, up to CloudFormation's 51,200 bytes.
    Body(String),
    /// Uploaded to S3 first.
    Url(String),
}

/// What CloudFormation made of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChangeSetOutcome {
    /// The template, parameters and tags match the stack: nothing to do (the change set is deleted).
    NoChanges,
    /// Ready to execute.
    Ready {
        /// The change set's name.
        name: String,
        /// One entry per resource change.
        changes: Vec<PlannedChange>,
    },
}

/// Everything a change set is made of.
#[derive(Debug, Clone)]
pub(crate) struct ChangeSetRequest<'a> {
    /// Stack name.
    pub stack: &'a str,
    /// Create or update.
    pub create: bool,
    /// The template.
    pub template: TemplateSource,
    /// Parameters.
    pub parameters: &'a [(String, String)],
    /// Tags.
    pub tags: &'a [(String, String)],
    /// The role CloudFormation acts with (`RoleARN`): the bootstrap's execution role for an app stack; none for the
    /// bootstrap stack itself, which CloudFormation creates with the caller's credentials.
    pub role_arn: Option<&'a str>,
}

/// A fresh change set name, `deployer-<epoch ms>`: chosen before the change set is created, so a run interrupted
/// while CloudFormation computes it can still delete it by name.
pub(crate) fn new_name() -> String {
    format!(
        "deployer-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
    )
}

/// The longest the deployer waits for CloudFormation to compute one change set (it usually takes seconds).
pub(crate) const CHANGE_SET_LIMIT: Duration = Duration::from_mins(10);

/// Creates a change set and waits until it is ready or known to hold no changes; after `limit`, deletes it and says
/// so.
pub(crate) async fn create(
    cfn: &Client,
    request: &ChangeSetRequest<'_>,
    name: &str,
    limit: Duration,
) -> Result<ChangeSetOutcome> {
    let mut call = cfn
        .create_change_set()
        .stack_name(request.stack)
        .change_set_name(name)
        .change_set_type(if request.create { ChangeSetType::Create } else { ChangeSetType::Update })
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .set_role_arn(request.role_arn.map(str::to_owned))
        .description("created by deployer up");
    call = match &request.template {
        TemplateSource::Body(body) => call.template_body(body),
        TemplateSource::Url(url) => call.template_url(url),
    };
    for (key, value) in request.parameters {
        call = call.parameters(Parameter::builder().parameter_key(key).parameter_value(value).build());
    }
    for (key, value) in request.tags {
        call = call.tags(Tag::builder().key(key).value(value).build());
    }
    if let Err(e) = call.send().await {
        let message = service_message(&e);
        // Some CloudFormation implementations answer "no updates" at creation instead of with a FAILED change set.
        if is_no_change_reason(&message) {
            return Ok(ChangeSetOutcome::NoChanges);
        }
        return Err(crate::aws::api_error("CloudFormation.CreateChangeSet", message));
    }
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let described = cfn
            .describe_change_set()
            .stack_name(request.stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(aws_error("CloudFormation.DescribeChangeSet"))?;
        match described.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                let changes = described
                    .changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|rc| {
                        PlannedChange::new(
                            rc.action().map_or("Change", |a| a.as_str()),
                            rc.resource_type().unwrap_or_default(),
                            rc.logical_resource_id().unwrap_or_default(),
                            rc.replacement().map(aws_sdk_cloudformation::types::Replacement::as_str),
                        )
                    })
                    .collect();
                return Ok(ChangeSetOutcome::Ready { name: name.to_owned(), changes });
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = described.status_reason().unwrap_or_default().to_owned();
                if is_no_change_reason(&reason) {
                    delete(cfn, request.stack, name).await?;
                    return Ok(ChangeSetOutcome::NoChanges);
                }
                return Err(DeployerError::DeployFailed(format!(
                    "CloudFormation rejected the change set for stack {}: {reason}",
                    request.stack
                )));
            }
            status => {
                if started.elapsed() >= limit {
                    let status = status.map_or("unknown", ChangeSetStatus::as_str).to_owned();
                    return Err(not_computed(cfn, request.stack, name, &status, limit).await);
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// A change set still not computed after `limit`: it is deleted, so nothing is left waiting to be executed by
/// someone who does not know where it came from.
async fn not_computed(cfn: &Client, stack: &str, name: &str, status: &str, limit: Duration) -> DeployerError {
    let minutes = limit.as_secs().div_ceil(60);
    match delete(cfn, stack, name).await {
        Ok(()) => DeployerError::TimedOut(format!(
            "CloudFormation did not compute change set {name} of stack {stack} within {minutes} min (status \
             {status}); the deployer deleted it and changed nothing. Look for a problem on CloudFormation's side \
             (`aws cloudformation describe-stacks --stack-name {stack}`, the AWS Health Dashboard), then run `up` \
             again"
        )),
        Err(e) => DeployerError::TimedOut(format!(
            "CloudFormation did not compute change set {name} of stack {stack} within {minutes} min (status \
             {status}), and deleting it failed ({e}): it is still there, unexecuted. Delete it with `aws \
             cloudformation delete-change-set --stack-name {stack} --change-set-name {name}`, then run `up` again"
        )),
    }
}

/// Starts executing a ready change set.
pub(crate) async fn execute(cfn: &Client, stack: &str, name: &str) -> Result<()> {
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .map_err(aws_error("CloudFormation.ExecuteChangeSet"))?;
    Ok(())
}

/// Deletes a change set that will not be executed.
pub(crate) async fn delete(cfn: &Client, stack: &str, name: &str) -> Result<()> {
    cfn.delete_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
        .map_err(aws_error("CloudFormation.DeleteChangeSet"))?;
    Ok(())
}
