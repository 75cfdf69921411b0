//! `stop`: stop a running execution, on AWS or the local target.

use crate::cli::StopArgs;
use crate::durable::{Selector, api};
use crate::error::{DeployerError, Result};
use crate::io::Event;

use super::Context;
use super::executions::resolve_execution;

/// Runs `stop`.
pub(crate) async fn run(ctx: &Context, args: &StopArgs) -> Result<()> {
    let selector = Selector::parse(&args.execution)?;
    let (aws, arn) = resolve_execution(ctx, &args.target, &selector).await?;
    let lambda = &aws.lambda;
    let execution = api::get_execution(lambda, &arn).await?;
    if execution.is_done() {
        return Err(DeployerError::Conflict {
            what: format!("execution {} already ended ({})", execution.name, execution.status),
            remedy: format!("nothing to stop; see it with `deployer history {}{}`", execution.name, ctx.target.flag()),
        });
    }
    let stopped_at = api::stop(lambda, &arn).await?;
    ctx.run.host.notify(Event::ExecutionStopped { execution: arn, stopped_at });
    Ok(())
}
