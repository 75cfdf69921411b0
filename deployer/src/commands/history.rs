//! `history`: one execution's operations in order, with the invocations between them, on AWS or the local target.

use crate::cli::HistoryArgs;
use crate::durable::{Selector, api, timeline};
use crate::error::Result;
use crate::io::Event;

use super::Context;
use super::executions::resolve_execution;

/// Runs `history`.
pub(crate) async fn run(ctx: &Context, args: &HistoryArgs) -> Result<()> {
    let selector = Selector::parse(&args.execution)?;
    let (aws, arn) = resolve_execution(ctx, &args.target, &selector).await?;
    let lambda = &aws.lambda;
    let execution = api::get_execution(lambda, &arn).await?;
    let events = api::history(lambda, &arn).await?;
    let rows = timeline::timeline(&events, execution.is_done());
    ctx.run.host.notify(Event::History { execution, rows });
    Ok(())
}
