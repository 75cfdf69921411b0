//! `diff`: what `up` would change in the selected stacks, without building anything.

use crate::cli::DiffArgs;
use crate::error::Result;

use super::Context;

/// Runs `diff`.
pub(crate) async fn run(ctx: &Context, args: &DiffArgs) -> Result<()> {
    let selection = ctx.selection(&args.selectors.stacks)?;
    ctx.target.diff(&ctx.run, &selection).await
}
