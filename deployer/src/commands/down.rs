//! `down`: remove the selected stacks from the target; `--all` removes every stack of the app and the bootstrap
//! stack with its assets, and on the local target a bare `down --local` stops everything.

use crate::cli::DownArgs;
use crate::error::Result;
use crate::target::DownScope;

use super::Context;

/// Runs `down`.
pub(crate) async fn run(ctx: &Context, args: &DownArgs) -> Result<()> {
    let (selection, scope) = if args.all {
        (ctx.everything()?, DownScope::All)
    } else if args.selectors.stacks.is_empty() {
        // A bare `down --local` stops everything, so it needs no default stack (an app of several stacks may name
        // none); on AWS it deletes the default stack.
        let selection = if ctx.global.local { ctx.everything()? } else { ctx.selection(&[])? };
        (selection, DownScope::Default)
    } else {
        (ctx.selection(&args.selectors.stacks)?, DownScope::Selected)
    };
    ctx.target.down(&ctx.run, &selection, scope).await
}
