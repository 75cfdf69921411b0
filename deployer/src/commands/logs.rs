//! `logs`: a stack's function logs (every function, or the one `--function` names), on AWS from CloudWatch Logs,
//! on the local target from its log files; `--execution` keeps the lines that name one durable execution.

use crate::cli::LogsArgs;
use crate::durable::{Selector, api};
use crate::error::{DeployerError, Result};
use crate::functions::Want;
use crate::target::LogsRequest;

use super::{Context, StackOnTarget};

/// Runs `logs`.
pub(crate) async fn run(ctx: &Context, args: &LogsArgs) -> Result<()> {
    let execution = args.execution.as_deref().map(Selector::parse).transpose()?;
    let on_target = StackOnTarget::find(ctx, args.stack.as_deref(), args.function.as_deref(), Want::Any, false).await?;
    let functions = match args.function.as_deref() {
        Some(name) => vec![on_target.function(ctx, Some(name), Want::Any)?],
        None => on_target
            .catalog
            .iter()
            .filter_map(|spec| Some((spec.clone(), on_target.names.get(&spec.logical_id)?.clone())))
            .collect(),
    };
    let execution = match execution {
        None => None,
        Some(Selector::Arn(arn)) => Some(arn),
        Some(selector) => Some(find_execution(ctx, &on_target, &selector).await?),
    };
    let request =
        LogsRequest { functions, deployed: &on_target.deployed, since: args.since, follow: args.follow, execution };
    ctx.target.logs(&ctx.run, &on_target.aws, request).await
}

/// The ARN of the execution `selector` (a name, or `latest`) names among the stack's durable functions.
async fn find_execution(ctx: &Context, on_target: &StackOnTarget, selector: &Selector) -> Result<String> {
    for spec in on_target.catalog.iter().filter(|f| f.durable) {
        let Some(name) = on_target.names.get(&spec.logical_id) else { continue };
        match api::resolve(&on_target.aws.lambda, name, selector).await {
            Ok(arn) => return Ok(arn),
            Err(DeployerError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Err(DeployerError::NotFound {
        what: format!("no execution {selector} of the durable functions of stack {}", on_target.stack),
        remedy: format!("list them with `deployer executions{}`, or pass the execution's ARN", ctx.target.flag()),
        source: None,
    })
}
