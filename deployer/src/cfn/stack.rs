//! Reading and deleting stacks.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::TemplateStage;
use serde_json::Value;

use crate::aws::{aws_error, service_message};
use crate::error::Result;

/// What the deployer needs to know about a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StackInfo {
    /// The stack's id (ARN).
    pub id: String,
    /// Current status.
    pub status: String,
    /// Outputs, key to value.
    pub outputs: BTreeMap<String, String>,
    /// Parameters, key to value.
    pub parameters: BTreeMap<String, String>,
    /// Tags, key to value.
    pub tags: BTreeMap<String, String>,
    /// When the stack was last created or updated.
    pub last_changed: Option<std::time::SystemTime>,
}

/// Describes a stack; `None` when it does not exist (or only as a deleted stack).
pub(crate) async fn describe(cfn: &Client, name: &str) -> Result<Option<StackInfo>> {
    let answer = match cfn.describe_stacks().stack_name(name).send().await {
        Ok(answer) => answer,
        Err(e) => {
            let message = service_message(&e);
            if message.contains("does not exist") {
                return Ok(None);
            }
            return Err(crate::aws::api_error("CloudFormation.DescribeStacks", message));
        }
    };
    let Some(stack) = answer.stacks().first() else {
        return Ok(None);
    };
    let status = stack.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    Ok(Some(StackInfo {
        id: stack.stack_id().unwrap_or(name).to_owned(),
        status,
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
            .collect(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value().unwrap_or_default().to_owned())))
            .collect(),
        tags: stack.tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned()))).collect(),
        last_changed: stack
            .last_updated_time()
            .or(stack.creation_time())
            .and_then(|t| std::time::SystemTime::try_from(*t).ok()),
    }))
}

/// The template a stack was deployed with, as JSON.
pub(crate) async fn deployed_template(cfn: &Client, name: &str) -> Result<Option<Value>> {
    let answer = cfn
        .get_template()
        .stack_name(name)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(aws_error("CloudFormation.GetTemplate"))?;
    // A template that is not JSON (YAML written by another tool) can never equal ours: treat it as "differs".
    Ok(answer.template_body().and_then(|body| serde_json::from_str(body).ok()))
}

/// The physical id of one resource of a stack.
pub(crate) async fn physical_id(cfn: &Client, stack: &str, logical_id: &str) -> Result<Option<String>> {
    match cfn.describe_stack_resource().stack_name(stack).logical_resource_id(logical_id).send().await {
        Ok(answer) => Ok(answer.stack_resource_detail().and_then(|d| d.physical_resource_id()).map(str::to_owned)),
        Err(e) => {
            let message = service_message(&e);
            if message.contains("does not exist") {
                Ok(None)
            } else {
                Err(crate::aws::api_error("CloudFormation.DescribeStackResource", message))
            }
        }
    }
}

/// The physical id of every resource of a stack, by logical id (`ListStackResources`, every page).
pub(crate) async fn physical_ids(cfn: &Client, stack: &str) -> Result<BTreeMap<String, String>> {
    let mut physical = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(aws_error("CloudFormation.ListStackResources"))?;
        for resource in page.stack_resource_summaries() {
            if let (Some(logical), Some(id)) = (resource.logical_resource_id(), resource.physical_resource_id()) {
                physical.insert(logical.to_owned(), id.to_owned());
            }
        }
        token = page.next_token().filter(|t| !t.is_empty() && Some(*t) != token.as_deref()).map(str::to_owned);
        if token.is_none() {
            return Ok(physical);
        }
    }
}
