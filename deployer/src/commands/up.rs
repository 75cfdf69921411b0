//! `up`: deploy the selected stacks to the target (AWS, or the local target with `--local`).

use crate::cli::UpArgs;
use crate::error::{DeployerError, Result};
use crate::target::Target;

use super::Context;

/// Runs `up`.
pub(crate) async fn run(ctx: &Context, args: &UpArgs) -> Result<()> {
    if args.watch && !matches!(ctx.target, Target::Local(_)) {
        return Err(DeployerError::Usage(
            "`--watch` redeploys into the local target: run `deployer up --local --watch`".into(),
        ));
    }
    let selection = ctx.selection(&args.selectors.stacks)?;
    match &ctx.target {
        Target::Local(local) if args.watch => {
            let session = local.start(ctx, &selection, args).await?;
            crate::watch::run(ctx, local, &selection, args, session).await
        }
        target => target.up(ctx, &selection, args).await,
    }
}
