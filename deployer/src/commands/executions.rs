//! `executions`: the durable function's executions, newest first, on AWS or the local target.

use std::collections::BTreeMap;

use crate::aws::Aws;
use crate::cli::ExecutionsArgs;
use crate::durable::{ListOptions, api};
use crate::error::{DeployerError, Result};
use crate::io::Event;

use super::Context;
use super::invoke::{ALIAS_OUTPUT, deployed_outputs};

/// The output that names the durable function.
pub const FUNCTION_OUTPUT: &str = "DurableLambdaFunctionArn";

/// Connects to the target (AWS, or the local target with `--local`) and reads the app stack's outputs.
pub async fn connect(ctx: &Context) -> Result<(Aws, BTreeMap<String, String>)> {
    if ctx.global.local {
        super::local::connect(ctx).await
    } else {
        let aws = ctx.aws().await?;
        let outputs = deployed_outputs(&aws, &ctx.global.stack_name).await?;
        Ok((aws, outputs))
    }
}

/// Connects to the target and turns an execution selector (ARN, name or `latest`) into the execution's ARN.
pub async fn resolve_execution(ctx: &Context, selector: &crate::durable::Selector) -> Result<(Aws, String)> {
    let (aws, outputs) = connect(ctx).await?;
    let arn = match selector {
        crate::durable::Selector::Arn(arn) => arn.clone(),
        _ => api::resolve(&aws.lambda, &function_name(ctx, &outputs)?, selector).await?,
    };
    Ok((aws, arn))
}

/// The durable function's name, from the `DurableLambdaFunctionArn` output (else the alias ARN).
pub fn function_name(ctx: &Context, outputs: &BTreeMap<String, String>) -> Result<String> {
    outputs
        .get(FUNCTION_OUTPUT)
        .or_else(|| outputs.get(ALIAS_OUTPUT))
        .map(|arn| api::function_name(arn).to_owned())
        .ok_or_else(|| {
            DeployerError::Usage(format!(
                "stack {} has no output {FUNCTION_OUTPUT}: deploy it first with `deployer up{}`",
                ctx.global.stack_name,
                if ctx.global.local { " --local" } else { "" }
            ))
        })
}

/// Runs `executions`.
pub async fn run(ctx: &Context, args: &ExecutionsArgs) -> Result<()> {
    let (aws, outputs) = connect(ctx).await?;
    let function = function_name(ctx, &outputs)?;
    let options = ListOptions {
        statuses: args.status.iter().map(|s| s.as_api().to_owned()).collect(),
        name: None,
        limit: usize::from(args.limit),
    };
    let executions = api::list_executions(&aws.lambda, &function, &options).await?;
    ctx.host.notify(Event::Executions { function, statuses: options.statuses, executions });
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests")]

    use clap::Parser;

    use crate::cli::{Cli, Command, ExecutionStatusArg};

    #[test]
    fn the_durable_commands_parse() {
        let cli = Cli::try_parse_from([
            "deployer",
            "executions",
            "--status",
            "timed-out",
            "--status",
            "failed",
            "--limit",
            "5",
        ])
        .unwrap();
        let Command::Executions(args) = cli.command else { panic!() };
        assert_eq!(args.status, [ExecutionStatusArg::TimedOut, ExecutionStatusArg::Failed]);
        assert_eq!((args.status[0].as_api(), args.limit), ("TIMED_OUT", 5));
        assert!(Cli::try_parse_from(["deployer", "executions", "--limit", "0"]).is_err());
        let Command::History(args) = Cli::try_parse_from(["deployer", "history", "--local"]).unwrap().command else {
            panic!()
        };
        assert_eq!(args.execution, "latest");
        let cli = Cli::try_parse_from(["deployer", "invoke", "--async", "--name", "run-1"]).unwrap();
        let Command::Invoke(args) = cli.command else { panic!() };
        assert!(args.asynchronous && !args.wait && args.name.as_deref() == Some("run-1"));
        let error = Cli::try_parse_from(["deployer", "invoke", "--name", "no spaces"]).unwrap_err().to_string();
        assert!(error.contains("not a valid execution name"), "{error}");
        assert!(Cli::try_parse_from(["deployer", "stop"]).is_err(), "stop needs an execution");
    }
}
