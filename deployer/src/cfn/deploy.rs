//! The deploy loop for one stack: decide from its status, skip when nothing changed, otherwise create, approve,
//! execute and watch a change set.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::approval::{RequireApproval, broadening, needs_approval};
use super::change_set::{self, ChangeSetOutcome, ChangeSetRequest, TemplateSource};
use super::monitor::{EventCursor, Operation, WATCH_LIMIT, watch};
use super::replacement::durable_replacements;
use super::stack::{self, StackInfo};
use super::status::{StackAction, action_for, is_success};
use crate::aws::aws_error;
use crate::error::{DeployerError, Result};
use crate::interrupt::Interrupt;
use crate::io::{Event, Host};
use crate::publish::AssetBucket;

/// CloudFormation's limit for an inline template body.
pub(crate) const MAX_TEMPLATE_BODY: usize = 51_200;

/// How long the deployer waits for each kind of CloudFormation work before it stops and says what still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Computing one change set.
    pub change_set: Duration,
    /// One stack operation (create, update, delete, or one found running).
    pub watch: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { change_set: change_set::CHANGE_SET_LIMIT, watch: WATCH_LIMIT }
    }
}

/// One stack to deploy.
#[derive(Debug, Clone)]
pub(crate) struct StackDeployRequest<'a> {
    /// Stack name.
    pub stack: &'a str,
    /// The template as JSON (compared with the deployed one).
    pub template: &'a Value,
    /// The template's text, as written by synth.
    pub template_body: &'a str,
    /// Parameters.
    pub parameters: Vec<(String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// When to ask before executing.
    pub require_approval: RequireApproval,
    /// Bucket for templates over the inline limit.
    pub template_bucket: Option<&'a AssetBucket>,
    /// The role CloudFormation creates the stack's resources with (`RoleARN`); none: the caller's credentials.
    pub role_arn: Option<&'a str>,
    /// Ctrl-C: checked at every point where stopping leaves a state we can describe.
    pub interrupt: &'a Interrupt,
    /// How long to wait for CloudFormation.
    pub limits: Limits,
}

/// How deploying a stack ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StackDeployOutcome {
    /// The stack already matched: nothing was created or executed.
    NoChanges {
        /// Its outputs.
        outputs: BTreeMap<String, String>,
    },
    /// A change set was executed and the stack is complete.
    Deployed {
        /// Final status.
        status: String,
        /// Its outputs.
        outputs: BTreeMap<String, String>,
    },
}

/// Whether the deployed stack already is what `request` asks for.
pub(crate) fn is_unchanged(info: &StackInfo, deployed: Option<&Value>, request: &StackDeployRequest<'_>) -> bool {
    let params: BTreeMap<String, String> = request.parameters.iter().cloned().collect();
    let tags: BTreeMap<String, String> = request.tags.iter().cloned().collect();
    action_for(request.stack, Some(&info.status)) == StackAction::Update
        && deployed == Some(request.template)
        && info.parameters == params
        && info.tags == tags
}

/// Deploys one stack through a change set, reporting to `host`.
pub(crate) async fn deploy_stack(
    aws: &crate::aws::Aws,
    request: &StackDeployRequest<'_>,
    host: &dyn Host,
) -> Result<StackDeployOutcome> {
    let cfn = &aws.cfn;
    let total = request.template.get("Resources").and_then(Value::as_object).map_or(0, serde_json::Map::len);
    loop {
        let info = stack::describe(cfn, request.stack).await?;
        let action = action_for(request.stack, info.as_ref().map(|i| i.status.as_str()));
        match action {
            StackAction::Blocked(message) => return Err(DeployerError::DeployFailed(message)),
            StackAction::WaitThenRetry => {
                let status = info.as_ref().map(|i| i.status.clone()).unwrap_or_default();
                host.notify(Event::Info {
                    message: format!(
                        "{}: an operation is in progress ({status}); waiting for it to end",
                        request.stack
                    ),
                });
                let cursor = EventCursor::at_now(cfn, request.stack).await?;
                tokio::select! {
                    biased;
                    () = request.interrupt.requested() => return Err(stopped_waiting(request.stack, &status)),
                    watched = watch(
                        cfn, request.stack, request.stack, cursor, Operation::Running, total, request.limits.watch, host,
                    ) => watched?,
                };
            }
            StackAction::DeleteThenCreate => {
                let status = info.as_ref().map(|i| i.status.clone()).unwrap_or_default();
                host.notify(Event::Warning {
                    message: format!(
                        "{}: left in {status} by a failed creation; deleting it so it can be created again",
                        request.stack
                    ),
                });
                delete_and_wait(cfn, request, total, host).await?;
            }
            StackAction::Create | StackAction::Update => {
                let create = action == StackAction::Create;
                if let Some(info) = info.as_ref().filter(|i| i.status == "REVIEW_IN_PROGRESS")
                    && clear_stale_review(cfn, request, &info.status, total, host).await?
                {
                    continue;
                }
                let deployed = if create { None } else { stack::deployed_template(cfn, request.stack).await? };
                if let Some(info) = info.as_ref().filter(|i| is_unchanged(i, deployed.as_ref(), request)) {
                    host.notify(Event::NoChanges { stack: request.stack.to_owned() });
                    return Ok(StackDeployOutcome::NoChanges { outputs: info.outputs.clone() });
                }
                return execute_change(aws, request, create, deployed.as_ref(), total, host).await;
            }
        }
    }
}

async fn execute_change(
    aws: &crate::aws::Aws,
    request: &StackDeployRequest<'_>,
    create: bool,
    deployed: Option<&Value>,
    total: usize,
    host: &dyn Host,
) -> Result<StackDeployOutcome> {
    let cfn = &aws.cfn;
    let template = template_source(aws, request.stack, request.template_body, request.template_bucket).await?;
    let name = change_set::new_name();
    let change_set_request = ChangeSetRequest {
        stack: request.stack,
        create,
        template,
        parameters: &request.parameters,
        tags: &request.tags,
        role_arn: request.role_arn,
    };
    // Not raced with Ctrl-C: a CreateChangeSet cut off in flight may still be carried out after we looked, and
    // leave a change set nobody deletes. Computing it takes seconds; the check below follows at once.
    let outcome = change_set::create(cfn, &change_set_request, &name, request.limits.change_set).await?;
    let (name, changes) = match outcome {
        ChangeSetOutcome::NoChanges => {
            host.notify(Event::NoChanges { stack: request.stack.to_owned() });
            let outputs = stack::describe(cfn, request.stack).await?.map(|i| i.outputs).unwrap_or_default();
            return Ok(StackDeployOutcome::NoChanges { outputs });
        }
        ChangeSetOutcome::Ready { name, changes } => (name, changes),
    };
    host.notify(Event::ChangeSet {
        stack: request.stack.to_owned(),
        change_set: name.clone(),
        changes: changes.iter().map(ToString::to_string).collect(),
    });
    #[cfg(feature = "test-hooks")]
    crate::test_hooks::pause_at(&format!("change-set-created:{}", request.stack), request.interrupt).await;
    if request.interrupt.is_requested() {
        return Err(abandon(cfn, request, &name, create).await);
    }
    let widening = broadening(deployed, request.template);
    let replaced = durable_replacements(deployed, request.template, Some(&changes));
    for replacement in &replaced {
        host.notify(Event::Warning { message: replacement.warning(request.stack) });
    }
    if needs_approval(request.require_approval, !changes.is_empty(), &widening, &replaced) {
        let mut lines = Vec::new();
        if !widening.is_empty() {
            lines.push(format!("{} widens IAM access in {} way(s):", request.stack, widening.len()));
            lines.extend(widening.iter().map(|w| format!("  {w}")));
        }
        lines.extend(replaced.iter().map(|r| format!("durable function {} is {}", r.logical_id, r.why)));
        lines.push(format!("Deploy these changes to {}?", request.stack));
        let question = lines.join("\n");
        let approved = host.confirm(&question);
        if approved != Some(true) {
            change_set::delete(cfn, request.stack, &name).await?;
            if create {
                // A CREATE change set made an empty stack in REVIEW_IN_PROGRESS: remove it, so a refusal leaves
                // the account as it was.
                cfn.delete_stack()
                    .stack_name(request.stack)
                    .send()
                    .await
                    .map_err(aws_error("CloudFormation.DeleteStack"))?;
            }
            let why = if approved.is_none() {
                "nobody can approve it in a non-interactive run"
            } else {
                "it was not approved"
            };
            let mut what = Vec::new();
            if !widening.is_empty() {
                what.push(format!("it widens IAM access in {} way(s)", widening.len()));
            }
            if !replaced.is_empty() {
                let ids: Vec<&str> = replaced.iter().map(|r| r.logical_id.as_str()).collect();
                what.push(format!("it replaces or removes durable function(s) {}", ids.join(", ")));
            }
            if what.is_empty() {
                what.push("every change needs approval with --require-approval any-change".to_owned());
            }
            return Err(DeployerError::ApprovalRequired(format!(
                "the change to {} needs approval ({}) and {why}; review it with `deployer diff`, then run `up \
                 --require-approval never`",
                request.stack,
                what.join("; ")
            )));
        }
    }
    if request.interrupt.is_requested() {
        return Err(abandon(cfn, request, &name, create).await);
    }
    let cursor = EventCursor::at_now(cfn, request.stack).await?;
    change_set::execute(cfn, request.stack, &name).await?;
    #[cfg(feature = "test-hooks")]
    crate::test_hooks::pause_at(&format!("change-set-executed:{}", request.stack), request.interrupt).await;
    let watched = tokio::select! {
        biased;
        () = request.interrupt.requested() => {
            return Err(DeployerError::Interrupted(format!(
                "stopped watching {stack}: CloudFormation carries on executing change set {name}, and rolls it back if \
                 it fails. Run `deployer up` again: it waits for the operation to end, then deploys whatever still \
                 differs",
                stack = request.stack
            )));
        }
        watched = watch(
            cfn, request.stack, request.stack, cursor, Operation::ChangeSet(&name), total, request.limits.watch, host,
        ) => watched?,
    };
    if is_success(&watched.status) {
        let outputs = stack::describe(cfn, request.stack).await?.map(|i| i.outputs).unwrap_or_default();
        return Ok(StackDeployOutcome::Deployed { status: watched.status, outputs });
    }
    if !watched.failures.is_empty() {
        host.notify(Event::FailureRecap { stack: request.stack.to_owned(), failures: watched.failures.clone() });
    }
    let cause = watched.failures.first().map_or_else(
        || "see the stack events above".to_owned(),
        |(id, status, reason)| format!("{id} {status}: {reason}"),
    );
    Err(DeployerError::DeployFailed(format!(
        "deploying {} ended in {}: {cause}; fix the cause and run `up` again",
        request.stack, watched.status
    )))
}

/// A stack in `REVIEW_IN_PROGRESS` holds no resources: only change sets, left by a first deployment that stopped
/// before executing its own (a second Ctrl-C, a killed run). When every change set on it is one of ours and none is
/// executing, the empty stack is deleted (with them) and watched until gone, so the next pass creates it afresh;
/// returns whether it did. A stack holding someone else's change set is left alone: a new CREATE change set is
/// made beside it. Creating beside our own stale change sets is what moto turns into a second stack of the same name
/// whose first one stays in `REVIEW_IN_PROGRESS`, which the watch then followed until its limit.
async fn clear_stale_review(
    cfn: &aws_sdk_cloudformation::Client,
    request: &StackDeployRequest<'_>,
    status: &str,
    total: usize,
    host: &dyn Host,
) -> Result<bool> {
    let listed = cfn
        .list_change_sets()
        .stack_name(request.stack)
        .send()
        .await
        .map_err(aws_error("CloudFormation.ListChangeSets"))?;
    let ours = |c: &aws_sdk_cloudformation::types::ChangeSetSummary| {
        c.change_set_name().is_some_and(|n| n.starts_with("deployer-"))
            && c.execution_status().is_none_or(|e| e.as_str() != "EXECUTE_IN_PROGRESS")
    };
    let stale: Vec<&str> = listed.summaries().iter().filter(|c| ours(c)).filter_map(|c| c.change_set_name()).collect();
    if !listed.summaries().iter().all(ours) {
        return Ok(false);
    }
    host.notify(Event::Warning {
        message: format!(
            "{}: left in {status} by a first deployment that stopped before executing its change set ({}); \
             deleting the empty stack so it can be created again",
            request.stack,
            if stale.is_empty() { "none left".to_owned() } else { stale.join(", ") }
        ),
    });
    delete_and_wait(cfn, request, total, host).await?;
    Ok(true)
}

/// Deletes the stack and watches until it is gone (Ctrl-C stops the watch, not the deletion).
async fn delete_and_wait(
    cfn: &aws_sdk_cloudformation::Client,
    request: &StackDeployRequest<'_>,
    total: usize,
    host: &dyn Host,
) -> Result<()> {
    let cursor = EventCursor::at_now(cfn, request.stack).await?;
    cfn.delete_stack().stack_name(request.stack).send().await.map_err(aws_error("CloudFormation.DeleteStack"))?;
    tokio::select! {
        biased;
        () = request.interrupt.requested() => Err(stopped_waiting(request.stack, "DELETE_IN_PROGRESS")),
        watched = watch(
            cfn, request.stack, request.stack, cursor, Operation::Delete, total, request.limits.watch, host,
        ) => watched.map(|_| ()),
    }
}

/// Ctrl-C while waiting for an operation this run did not start.
fn stopped_waiting(stack: &str, status: &str) -> DeployerError {
    DeployerError::Interrupted(format!(
        "stopped waiting for {stack} ({status}); CloudFormation carries on. Run `deployer up` again to continue"
    ))
}

/// Ctrl-C before a change set was executed: deletes it (and the empty stack a CREATE change set made), so the
/// stack is exactly as it was. Clean-up failures are reported in the message, never hidden.
async fn abandon(
    cfn: &aws_sdk_cloudformation::Client,
    request: &StackDeployRequest<'_>,
    name: &str,
    create: bool,
) -> DeployerError {
    let mut left = Vec::new();
    // The change set may not exist (interrupted before CloudFormation created it): look before deleting, so the
    // answer does not depend on how an implementation reports a missing change set.
    let listed = cfn.list_change_sets().stack_name(request.stack).send().await;
    let exists = listed.is_ok_and(|l| l.summaries().iter().any(|c| c.change_set_name() == Some(name)));
    if exists && let Err(e) = change_set::delete(cfn, request.stack, name).await {
        left.push(format!("change set {name} could not be deleted ({e})"));
    }
    if create {
        let status = stack::describe(cfn, request.stack).await.ok().flatten().map(|info| info.status);
        if status.as_deref() == Some("REVIEW_IN_PROGRESS")
            && let Err(e) = cfn.delete_stack().stack_name(request.stack).send().await
        {
            left.push(format!("the empty stack could not be deleted ({})", crate::aws::service_message(&e)));
        }
    }
    if left.is_empty() {
        DeployerError::Interrupted(format!(
            "stopped before changing {}: its change set was not executed and has been deleted, so the stack is as it \
             was. Run `deployer up` again to deploy",
            request.stack
        ))
    } else {
        DeployerError::Interrupted(format!(
            "stopped before changing {}, but {}; `deployer up` deploys over it, `deployer down` removes it",
            request.stack,
            left.join(" and ")
        ))
    }
}

/// Where CloudFormation reads `template_body` from: inline up to [`MAX_TEMPLATE_BODY`] bytes, else uploaded to
/// `bucket` (under its hash) and named by its URL in the region's partition.
pub(crate) async fn template_source(
    aws: &crate::aws::Aws,
    stack: &str,
    template_body: &str,
    bucket: Option<&AssetBucket>,
) -> Result<TemplateSource> {
    if template_body.len() <= MAX_TEMPLATE_BODY {
        return Ok(TemplateSource::Body(template_body.to_owned()));
    }
    let Some(bucket) = bucket else {
        return Err(DeployerError::DeployFailed(format!(
            "the template of {stack} is {} bytes, over CloudFormation's inline limit of {MAX_TEMPLATE_BODY}, and no \
             asset bucket is available to upload it to",
            template_body.len()
        )));
    };
    let key = format!("templates/{}.json", crate::package::zip::sha256_hex(template_body.as_bytes()));
    let body = template_body.as_bytes().to_vec().into();
    crate::publish::s3::put(&aws.s3, bucket, &key, body, "application/json", None).await?;
    Ok(TemplateSource::Url(crate::publish::s3::object_url(&bucket.name, &aws.region, &key).await?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn info(status: &str) -> StackInfo {
        StackInfo {
            id: "id".into(),
            status: status.into(),
            outputs: BTreeMap::new(),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            last_changed: None,
        }
    }

    static NEVER: std::sync::LazyLock<Interrupt> = std::sync::LazyLock::new(Interrupt::never);

    fn request(template: &Value) -> StackDeployRequest<'_> {
        StackDeployRequest {
            stack: "app",
            template,
            template_body: "",
            parameters: vec![],
            tags: vec![],
            require_approval: RequireApproval::Never,
            template_bucket: None,
            role_arn: None,
            interrupt: &NEVER,
            limits: Limits::default(),
        }
    }

    #[test]
    fn same_template_on_a_stable_stack_is_a_no_op() {
        let t = json!({"Resources": {"A": {"Type": "T"}}});
        assert!(is_unchanged(&info("UPDATE_COMPLETE"), Some(&t), &request(&t)));
    }

    #[test]
    fn a_changed_template_parameter_or_tag_is_not_a_no_op() {
        let t = json!({"Resources": {"A": {"Type": "T"}}});
        let other = json!({"Resources": {"B": {"Type": "T"}}});
        assert!(!is_unchanged(&info("UPDATE_COMPLETE"), Some(&other), &request(&t)));
        let mut with_param = request(&t);
        with_param.parameters.push(("P".into(), "1".into()));
        assert!(!is_unchanged(&info("UPDATE_COMPLETE"), Some(&t), &with_param));
        let mut with_tag = request(&t);
        with_tag.tags.push(("team".into(), "a".into()));
        assert!(!is_unchanged(&info("UPDATE_COMPLETE"), Some(&t), &with_tag));
    }

    #[test]
    fn an_unstable_stack_is_never_a_no_op() {
        let t = json!({"Resources": {}});
        assert!(!is_unchanged(&info("UPDATE_IN_PROGRESS"), Some(&t), &request(&t)));
        assert!(!is_unchanged(&info("ROLLBACK_COMPLETE"), Some(&t), &request(&t)));
    }
}
