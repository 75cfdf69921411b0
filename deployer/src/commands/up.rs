//! `up`: deploy the selected stacks to the target (AWS, or the local target with `--local`).

use crate::cli::{ClockArg, UpArgs};
use crate::error::{DeployerError, Result};
use crate::target::{Target, UpOptions};

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
    let options = UpOptions {
        require_approval: args.require_approval,
        outputs_file: args.outputs_file.clone(),
        execution_policies: args.bootstrap.execution_policies.clone(),
        skip_time: args.skip_time,
        clock: match args.clock {
            Some(ClockArg::Manual) => ::local::ClockMode::Manual,
            Some(ClockArg::Wall) | None => ::local::ClockMode::Wall,
        },
        no_credentials: args.no_credentials,
    };
    match &ctx.target {
        Target::Local(local) if args.watch => {
            let session = local.start(&ctx.run, &selection, &options).await?;
            crate::watch::run(&ctx.run, local, &selection, &options, session).await
        }
        target => target.up(&ctx.run, &selection, &options).await,
    }
}
