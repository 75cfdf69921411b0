//! `stop`: stop a running execution, on AWS or the local target.

use crate::cli::StopArgs;
use crate::durable::{Selector, api};
use crate::error::{DeployerError, Result};
use crate::io::Event;

use super::Context;
use super::executions::resolve_execution;

/// Runs `stop`.
pub async fn run(ctx: &Context, args: &StopArgs) -> Result<()> {
    let selector = Selector::parse(&args.execution)?;
    let (aws, arn) = resolve_execution(ctx, &selector).await?;
    let execution = api::get_execution(&aws.lambda, &arn).await?;
    if execution.is_done() {
        return Err(DeployerError::Usage(format!(
            "execution {} already ended ({}): nothing to stop; see it with `deployer history {}{}`",
            execution.name,
            execution.status,
            execution.name,
            if ctx.global.local { " --local" } else { "" }
        )));
    }
    let stopped_at = api::stop(&aws.lambda, &arn).await?;
    ctx.host.notify(Event::ExecutionStopped { execution: arn, stopped_at });
    Ok(())
}
