//! `status`: the selected stacks as the target runs them.

use crate::cli::StatusArgs;
use crate::error::Result;

use super::Context;

/// Runs `status`.
pub(crate) async fn run(ctx: &Context, args: &StatusArgs) -> Result<()> {
    let selection = ctx.selection(&args.selectors.stacks)?;
    ctx.target.status(&ctx.run, &selection).await
}
