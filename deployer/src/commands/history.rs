//! `history`: one execution's operations in order, with the invocations between them, on AWS or the local target.

use crate::cli::HistoryArgs;
use crate::durable::{Selector, api, timeline};
use crate::error::Result;
use crate::io::Event;

use super::Context;
use super::executions::{connect, function_name};

/// Runs `history`.
pub async fn run(ctx: &Context, args: &HistoryArgs) -> Result<()> {
    let selector = Selector::parse(&args.execution)?;
    let (aws, outputs) = connect(ctx).await?;
    let arn = match &selector {
        Selector::Arn(arn) => arn.clone(),
        _ => api::resolve(&aws.lambda, &function_name(ctx, &outputs)?, &selector).await?,
    };
    let execution = api::get_execution(&aws.lambda, &arn).await?;
    let events = api::history(&aws.lambda, &arn).await?;
    let rows = timeline::timeline(&events, execution.is_done());
    ctx.host.notify(Event::History { execution, rows });
    Ok(())
}
