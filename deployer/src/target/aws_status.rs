//! `status` on AWS: each selected stack's CloudFormation status, its functions' deployed names, their published
//! versions (`ListVersionsByFunction`, the retained ones included) and where each alias points (`GetAlias`).

use aws_sdk_lambda::error::ProvideErrorMetadata as _;

use super::aws::{AwsTarget, deployed};
use crate::app::Selection;
use crate::aws::{Aws, api_error, service_message};
use crate::cfn::stack;
use crate::commands::Context;
use crate::durable::Timestamp;
use crate::error::Result;
use crate::functions::{FunctionSpec, catalog};
use crate::io::Event;
use crate::io::message::{AliasStatus, FunctionStatus};

/// Pages of versions read at most per function.
const MAX_PAGES: usize = 20;

/// Reports one [`Event::StackStatus`] per selected stack.
pub(super) async fn status(target: &AwsTarget, ctx: &Context, selection: &Selection) -> Result<()> {
    let aws = target.connect().await?;
    let assembly = selection.synth_for_names()?;
    for synthesized in assembly.stacks.iter().filter(|s| s.kind == stacks::StackKind::App) {
        let name = &synthesized.stack_name;
        let Some(info) = stack::describe(&aws.cfn, name).await? else {
            ctx.host.notify(Event::StackStatus {
                stack: name.clone(),
                status: None,
                last_changed: None,
                functions: vec![],
            });
            continue;
        };
        let resources = deployed(&aws, name).await?;
        let mut functions = Vec::new();
        for spec in catalog(synthesized) {
            let deployed_name = resources.physical.get(&spec.logical_id).cloned();
            functions.push(function_status(&aws, &spec, deployed_name).await?);
        }
        ctx.host.notify(Event::StackStatus {
            stack: name.clone(),
            status: Some(info.status),
            last_changed: info.last_changed.map(Timestamp::from_system),
            functions,
        });
    }
    Ok(())
}

async fn function_status(aws: &Aws, spec: &FunctionSpec, name: Option<String>) -> Result<FunctionStatus> {
    let Some(name) = name else {
        return Ok(FunctionStatus {
            logical_id: spec.logical_id.clone(),
            name: None,
            durable: spec.durable,
            versions: vec![],
            alias: None,
        });
    };
    let versions = versions(aws, &name).await?;
    let alias = match &spec.alias {
        Some((_, alias)) => Some(AliasStatus { name: alias.clone(), version: alias_target(aws, &name, alias).await? }),
        None => None,
    };
    Ok(FunctionStatus { logical_id: spec.logical_id.clone(), name: Some(name), durable: spec.durable, versions, alias })
}

/// The function's published version numbers, oldest first (`$LATEST` is not a published version).
async fn versions(aws: &Aws, function: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = match aws
            .lambda
            .list_versions_by_function()
            .function_name(function)
            .set_marker(marker.clone())
            .send()
            .await
        {
            Ok(page) => page,
            Err(error) if error.code() == Some("ResourceNotFoundException") => return Ok(found),
            Err(error) => return Err(api_error("Lambda.ListVersionsByFunction", service_message(&error))),
        };
        found.extend(page.versions().iter().filter_map(|v| v.version()).filter(|v| *v != "$LATEST").map(str::to_owned));
        marker = page.next_marker().filter(|m| !m.is_empty() && Some(*m) != marker.as_deref()).map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    found.sort_by_key(|v| v.parse::<u64>().unwrap_or(u64::MAX));
    Ok(found)
}

/// The version alias `alias` of `function` points at; `None` when the alias does not exist.
async fn alias_target(aws: &Aws, function: &str, alias: &str) -> Result<Option<String>> {
    match aws.lambda.get_alias().function_name(function).name(alias).send().await {
        Ok(answer) => Ok(answer.function_version().map(str::to_owned)),
        Err(error) if error.code() == Some("ResourceNotFoundException") => Ok(None),
        Err(error) => Err(api_error("Lambda.GetAlias", service_message(&error))),
    }
}
