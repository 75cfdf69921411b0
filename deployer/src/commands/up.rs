//! `up`: deploy the selected stacks to the target (AWS, or the local target with `--local`).

use crate::cli::{ClockArg, UpArgs};
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
    if args.clock == Some(ClockArg::Manual) && !ctx.global.local {
        return Err(DeployerError::Unsupported {
            what: "`--clock manual` runs the local target on a virtual clock; AWS runs on the wall clock".into(),
            remedy: "add --local: `deployer up --local --clock manual`".into(),
        });
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
