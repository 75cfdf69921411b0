//! `diff`: what `up` would change, from the templates and, with credentials, from CloudFormation's change set.

use crate::build::BuildTarget;
use crate::cfn::change_set::{self, ChangeSetOutcome, ChangeSetRequest, TemplateSource};
use crate::cfn::deploy::{MAX_TEMPLATE_BODY, template_source};
use crate::cfn::{approval, replacement, stack, template_diff};
use crate::error::Result;
use crate::io::Event;
use crate::publish::AssetBucket;

use super::{Context, prepare};

/// Runs `diff`.
pub async fn run(ctx: &Context) -> Result<()> {
    let prepared = prepare(ctx, BuildTarget::Lambda(ctx.global.arch))?;
    let aws = match ctx.aws().await {
        Ok(aws) => Some(aws),
        Err(e) => {
            ctx.host.notify(Event::Warning {
                message: format!("{e}; showing the templates' diff against an empty account"),
            });
            None
        }
    };
    for synthesized in &prepared.assembly.stacks {
        let name = &synthesized.stack_name;
        let deployed = match &aws {
            Some(aws) if stack::describe(&aws.cfn, name).await?.is_some() => {
                stack::deployed_template(&aws.cfn, name).await?
            }
            _ => None,
        };
        let changes = template_diff::diff(deployed.as_ref(), &synthesized.template);
        let mut text = if changes.is_empty() {
            format!("Stack {name}: no differences")
        } else {
            let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
            format!("Stack {name}:\n  {}", lines.join("\n  "))
        };
        let widening = approval::broadening(deployed.as_ref(), &synthesized.template);
        if !widening.is_empty() {
            text.push_str("\n  IAM: widens access in ");
            text.push_str(&widening.len().to_string());
            text.push_str(" way(s):");
            for grant in &widening {
                text.push_str("\n    ");
                text.push_str(grant);
            }
        }
        ctx.host.notify(Event::Value { kind: "template_diff".into(), text });
        let mut planned = None;
        if let (Some(aws), false) = (&aws, changes.is_empty()) {
            let exists = deployed.is_some();
            // A template over the inline limit is read from the asset bucket, as `up` deploys it.
            let bucket = if synthesized.template_body.len() > MAX_TEMPLATE_BODY {
                Some(AssetBucket::of(&aws.account_id().await?, &aws.region))
            } else {
                None
            };
            let template = if exists {
                template_source(aws, name, &synthesized.template_body, bucket.as_ref()).await?
            } else {
                TemplateSource::Body(synthesized.template_body.clone())
            };
            let request = ChangeSetRequest { stack: name, create: !exists, template, parameters: &[], tags: &[] };
            // A change set on a missing stack would leave a REVIEW_IN_PROGRESS stack behind: only ask for updates.
            if exists
                && let ChangeSetOutcome::Ready { name: cs, changes } =
                    change_set::create(&aws.cfn, &request, &change_set::new_name(), change_set::CHANGE_SET_LIMIT)
                        .await?
            {
                change_set::delete(&aws.cfn, name, &cs).await?;
                let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
                ctx.host.notify(Event::Value {
                    kind: "change_set".into(),
                    text: format!("CloudFormation's change set for {name}:\n  {}", lines.join("\n  ")),
                });
                planned = Some(changes);
            }
        }
        for replacement in
            replacement::durable_replacements(deployed.as_ref(), &synthesized.template, planned.as_deref())
        {
            ctx.host.notify(Event::Warning { message: replacement.warning(name) });
        }
    }
    Ok(())
}
