//! `up`: deploy the selected stacks to the target (AWS, or the local target with `--local`).

use crate::cli::UpArgs;
use crate::error::Result;

use super::Context;

/// Runs `up`.
pub(crate) async fn run(ctx: &Context, args: &UpArgs) -> Result<()> {
    let selection = ctx.selection(&args.selectors.stacks)?;
    ctx.target.up(ctx, &selection, args).await
}
