//! `invoke`: invoke the durable function's `live` alias (on AWS or the local target) and print the result.

use std::collections::BTreeMap;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

use crate::aws::Aws;
use crate::cfn::stack;
use crate::cli::InvokeArgs;
use crate::durable;
use crate::error::{DeployerError, Result};
use crate::io::Event;

use super::Context;

/// The output that names what `invoke` calls.
pub const ALIAS_OUTPUT: &str = "DurableLambdaFunctionAliasArn";

/// Runs `invoke`.
pub async fn run(ctx: &Context, args: &InvokeArgs) -> Result<()> {
    let payload = read_payload(&args.payload)?;
    let (aws, outputs) = if ctx.global.local {
        super::local::connect(ctx).await?
    } else {
        let aws = ctx.aws().await?;
        let outputs = deployed_outputs(&aws, &ctx.global.stack_name).await?;
        (aws, outputs)
    };
    let function = outputs.get(ALIAS_OUTPUT).cloned().ok_or_else(|| {
        DeployerError::Usage(format!(
            "stack {} has no output {ALIAS_OUTPUT}: deploy it first with `up`{}",
            ctx.global.stack_name,
            if ctx.global.local { " --local" } else { "" }
        ))
    })?;
    if args.asynchronous || args.wait {
        return start_async(ctx, &aws, &function, payload, args).await;
    }
    let answer = aws
        .lambda
        .invoke()
        .function_name(&function)
        .invocation_type(InvocationType::RequestResponse)
        .set_durable_execution_name(args.name.clone())
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| durable::api::invoke_error(&e, args.name.as_deref()))?;
    let body = answer.payload().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned()).unwrap_or_default();
    if let Some(arn) = answer.durable_execution_arn() {
        ctx.host.notify(Event::Info { message: format!("durable execution {arn}") });
    }
    if let Some(kind) = answer.function_error() {
        return Err(DeployerError::DeployFailed(format!("the function failed ({kind}): {body}")));
    }
    ctx.host.notify(Event::Value { kind: "invoke_result".into(), text: body });
    Ok(())
}

/// `--async` and `--wait`: starts the execution with an `Event` invocation, then prints its ARN, or follows it
/// until it ends and prints its result.
async fn start_async(ctx: &Context, aws: &Aws, function: &str, payload: Vec<u8>, args: &InvokeArgs) -> Result<()> {
    let started = durable::api::start(&aws.lambda, function, payload, args.name.as_deref()).await?;
    let arn = match (started, &args.name) {
        (Some(arn), _) => arn,
        (None, Some(name)) => {
            let selector = durable::Selector::Name(name.clone());
            durable::api::resolve(&aws.lambda, durable::api::function_name(function), &selector).await?
        }
        (None, None) => {
            return Err(DeployerError::Aws {
                operation: "Lambda.Invoke",
                message: "the answer names no durable execution: pass `--name <name>` to find it by name".into(),
            });
        }
    };
    if !args.wait {
        ctx.host.notify(Event::ExecutionStarted { execution: arn, name: args.name.clone() });
        return Ok(());
    }
    ctx.host.notify(Event::Info { message: format!("durable execution {arn}") });
    let execution = durable::follow::follow(&aws.lambda, &arn, ctx.host.as_ref()).await?;
    match (execution.status.as_str(), execution.result) {
        ("SUCCEEDED", result) => {
            ctx.host.notify(Event::Value { kind: "invoke_result".into(), text: result.unwrap_or_default() });
            Ok(())
        }
        (status, _) => Err(DeployerError::DeployFailed(format!(
            "the durable execution {} ended {status}{}: see `deployer history {}{}`",
            execution.name,
            execution.error.map(|e| format!(" ({})", e.summary())).unwrap_or_default(),
            execution.name,
            if ctx.global.local { " --local" } else { "" },
        ))),
    }
}

/// Reads `--payload`: JSON text, or `@path`. Either must be valid JSON.
pub fn read_payload(arg: &str) -> Result<Vec<u8>> {
    let bytes = match arg.strip_prefix('@') {
        Some(path) => std::fs::read(path).map_err(|e| {
            DeployerError::Usage(format!("cannot read the payload file {path}: {e}; pass an existing file after @"))
        })?,
        None => arg.as_bytes().to_vec(),
    };
    serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| {
        DeployerError::Usage(format!(
            "the payload is not valid JSON ({e}); pass a JSON object such as '{{\"values\": [1, 2]}}'"
        ))
    })?;
    Ok(bytes)
}

/// The outputs of a deployed stack, completed from its resources when the stack reports none.
pub async fn deployed_outputs(aws: &Aws, name: &str) -> Result<BTreeMap<String, String>> {
    let info = stack::describe(&aws.cfn, name).await?.ok_or_else(|| {
        DeployerError::Usage(format!("stack {name} does not exist in {}: deploy it with `up` first", aws.region))
    })?;
    let mut outputs = info.outputs;
    if !outputs.contains_key(ALIAS_OUTPUT) {
        // Without outputs (an older stack, or an emulator), the alias resource still names the ARN.
        if let Some(template) = stack::deployed_template(&aws.cfn, name).await? {
            let alias = template.get("Resources").and_then(serde_json::Value::as_object).and_then(|r| {
                r.iter().find(|(_, v)| v.get("Type").and_then(serde_json::Value::as_str) == Some("AWS::Lambda::Alias"))
            });
            if let Some((logical, _)) = alias
                && let Some(arn) = stack::physical_id(&aws.cfn, name, logical).await?
            {
                outputs.insert(ALIAS_OUTPUT.to_owned(), arn);
            }
        }
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_must_be_json() {
        assert!(read_payload(r#"{"values": [1]}"#).is_ok());
        let error = read_payload("{values").unwrap_err().to_string();
        assert!(error.contains("not valid JSON"), "{error}");
    }

    #[test]
    fn a_missing_payload_file_is_named() {
        let error = read_payload("@/does/not/exist.json").unwrap_err().to_string();
        assert!(error.contains("/does/not/exist.json"), "{error}");
    }
}
