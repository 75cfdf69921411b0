//! `executions`: the durable function's executions, newest first, on AWS or the local target.

use crate::cli::{ExecutionsArgs, FunctionArgs};
use crate::durable::{ListOptions, Selector, api};
use crate::error::Result;
use crate::functions::Want;
use crate::io::Event;

use super::{Context, resolve_function};
use crate::aws::Aws;

/// Connects to the target and turns an execution selector into the execution's ARN: an ARN as it is, a name or
/// `latest` among the executions of the durable function `target` names.
pub(crate) async fn resolve_execution(
    ctx: &Context,
    target: &FunctionArgs,
    selector: &Selector,
) -> Result<(Aws, String)> {
    if let Selector::Arn(arn) = selector {
        return Ok((ctx.target.connect().await?, arn.clone()));
    }
    let resolved = resolve_function(ctx, target, Want::Durable).await?;
    let arn = api::resolve(&resolved.aws.lambda, &resolved.name, selector).await?;
    Ok((resolved.aws, arn))
}

/// Runs `executions`.
pub(crate) async fn run(ctx: &Context, args: &ExecutionsArgs) -> Result<()> {
    let resolved = resolve_function(ctx, &args.target, Want::Durable).await?;
    let options = ListOptions {
        statuses: args.status.iter().map(|s| s.as_api().to_owned()).collect(),
        name: None,
        limit: usize::from(args.limit),
    };
    let executions = api::list_executions(&resolved.aws.lambda, &resolved.name, &options).await?;
    ctx.run.host.notify(Event::Executions { function: resolved.name, statuses: options.statuses, executions });
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
