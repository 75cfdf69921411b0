//! `status` on AWS: each selected stack's CloudFormation status, its functions' deployed names, the version the
//! stack published of each (its `AWS::Lambda::Version` resource; earlier versions are retained outside the stack)
//! and where each alias points (`GetAlias`).

use super::TargetContext;
use super::aws::{AwsTarget, deployed};
use crate::app::Selection;
use crate::aws::{Aws, api_error, service_message};
use crate::cfn::stack;
use crate::durable::Timestamp;
use crate::error::Result;
use crate::functions::{FunctionSpec, catalog};
use crate::io::Event;
use crate::io::message::{AliasStatus, FunctionStatus};

/// Reports one [`Event::StackStatus`] per selected stack.
pub(super) async fn status(target: &AwsTarget, ctx: &TargetContext, selection: &Selection) -> Result<()> {
    let aws = target.connect().await?;
    let assembly = selection.synth_for_names();
    for synthesized in assembly.stacks.iter().filter(|s| s.kind == constructs::StackKind::App) {
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
            let version = stack_version(&synthesized.template, &resources.physical, &spec.logical_id);
            let deployed_name = resources.physical.get(&spec.logical_id).cloned();
            functions.push(function_status(&aws, &spec, deployed_name, version).await?);
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

async fn function_status(
    aws: &Aws,
    spec: &FunctionSpec,
    name: Option<String>,
    version: Option<String>,
) -> Result<FunctionStatus> {
    let alias = match (&spec.alias, &name) {
        (Some((_, alias)), Some(name)) => {
            Some(AliasStatus { name: alias.clone(), version: alias_target(aws, name, alias).await? })
        }
        (Some((_, alias)), None) => Some(AliasStatus { name: alias.clone(), version: None }),
        (None, _) => None,
    };
    Ok(FunctionStatus { logical_id: spec.logical_id.clone(), name, durable: spec.durable, version, alias })
}

/// The number of the version the stack published of `function`: the physical id of its `AWS::Lambda::Version`
/// resource is the version's ARN, whose last field is the number. The template is read for which version belongs
/// to which function; a synthesized template's version ids carry placeholder hashes, so the deployed resources are
/// matched by the version's construct id (`ProcessorVersion`) rather than by its whole logical id.
fn stack_version(
    template: &serde_json::Value,
    physical: &std::collections::BTreeMap<String, String>,
    function: &str,
) -> Option<String> {
    let resources = template.get("Resources")?.as_object()?;
    let (version_id, _) = resources.iter().find(|(_, r)| {
        r.get("Type").and_then(serde_json::Value::as_str) == Some("AWS::Lambda::Version")
            && r.pointer("/Properties/FunctionName/Ref").and_then(serde_json::Value::as_str) == Some(function)
    })?;
    // The hash suffix: 8 hex digits after the construct id.
    let stem = version_id.get(..version_id.len().checked_sub(8)?)?;
    physical
        .iter()
        .find(|(id, _)| id.len() == version_id.len() && id.starts_with(stem))
        .and_then(|(_, arn)| arn.rsplit(':').next())
        .filter(|number| !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_owned)
}

/// The version alias `alias` of `function` points at; `None` when the alias does not exist.
async fn alias_target(aws: &Aws, function: &str, alias: &str) -> Result<Option<String>> {
    match aws.lambda.get_alias().function_name(function).name(alias).send().await {
        Ok(answer) => Ok(answer.function_version().map(str::to_owned)),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_lambda::operation::get_alias::GetAliasError::is_resource_not_found_exception) =>
        {
            Ok(None)
        }
        Err(error) => Err(api_error("Lambda.GetAlias", service_message(&error))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::collections::BTreeMap;

    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    /// The pattern's template as `status` synthesizes it, with placeholder hashes in its version ids.
    fn pattern() -> serde_json::Value {
        let mut app = constructs::App::new();
        stacks::app(&mut app).unwrap();
        app.synth().unwrap().stack("durable-invoke-lambda").unwrap().template.clone()
    }

    #[test]
    fn a_function_s_version_is_the_one_its_stack_published() {
        let template = pattern();
        // As ListStackResources answers on AWS: the version resources' physical ids are version ARNs, under the
        // deployed template's hashes.
        let physical = BTreeMap::from([
            ("Processor".to_owned(), "app-Processor-1".to_owned()),
            (
                "ProcessorVersion0F1E2D3C".to_owned(),
                "arn:aws:lambda:eu-west-1:123456789012:function:app-Processor-1:3".to_owned(),
            ),
            (
                "OrchestratorVersionA1B2C3D4".to_owned(),
                "arn:aws:lambda:eu-west-1:123456789012:function:app-Orchestrator-1:12".to_owned(),
            ),
        ]);
        assert_eq!(stack_version(&template, &physical, "Processor").as_deref(), Some("3"));
        assert_eq!(stack_version(&template, &physical, "Orchestrator").as_deref(), Some("12"));
        assert_eq!(stack_version(&template, &BTreeMap::new(), "Processor"), None, "not deployed");
        let moto = BTreeMap::from([("ProcessorVersion0F1E2D3C".to_owned(), String::new())]);
        assert_eq!(stack_version(&template, &moto, "Processor"), None, "no physical id, as moto answers");
    }

    #[tokio::test]
    async fn an_alias_target_is_read_and_a_missing_alias_is_none() {
        let found =
            mock!(aws_sdk_lambda::Client::get_alias).match_requests(|r| r.name() == Some("live")).then_output(|| {
                aws_sdk_lambda::operation::get_alias::GetAliasOutput::builder()
                    .name("live")
                    .function_version("7")
                    .build()
            });
        let aws = Aws {
            lambda: mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&found]),
            ..Aws::unconfigured("eu-west-1")
        };
        assert_eq!(alias_target(&aws, "f", "live").await.unwrap().as_deref(), Some("7"));
        let missing = mock!(aws_sdk_lambda::Client::get_alias).then_error(|| {
            aws_sdk_lambda::operation::get_alias::GetAliasError::ResourceNotFoundException(
                aws_sdk_lambda::types::error::ResourceNotFoundException::builder().message("Cannot find alias").build(),
            )
        });
        let aws = Aws {
            lambda: mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&missing]),
            ..Aws::unconfigured("eu-west-1")
        };
        assert_eq!(alias_target(&aws, "f", "live").await.unwrap(), None);
    }
}
