//! `up`: deploy the selected stacks to the target (AWS, or the local target with `--local`).

use crate::cli::{ClockArg, UpArgs};
use crate::error::{DeployerError, Result};
use crate::target::{Target, UpOptions};
use crate::watch::Redeploy;

use super::Context;

/// Runs `up`.
pub(crate) async fn run(ctx: &Context, args: &UpArgs) -> Result<()> {
    if args.clock == Some(ClockArg::Manual) && !ctx.global.local {
        return Err(DeployerError::Unsupported {
            what: "`--clock manual` runs the local target on a virtual clock; AWS runs on the wall clock".into(),
            remedy: "add --local: `deployer up --local --clock manual`".into(),
        });
    }
    if args.hotswap && ctx.global.local {
        return Err(DeployerError::Unsupported {
            what: "`--hotswap` updates function code on AWS without CloudFormation; the local target redeploys in \
                   seconds without it"
                .into(),
            remedy: "run `deployer up --local`, or `deployer up --local --watch` to redeploy on every save".into(),
        });
    }
    let selection = ctx.selection(&args.selectors.stacks)?;
    let environment = selection.app().environment();
    if (args.hotswap || (args.watch && !ctx.global.local)) && environment.protected {
        return Err(DeployerError::Unsupported {
            what: format!(
                "environment {} is protected: `--hotswap` (and `--watch`, which hotswaps each change) would leave its \
                 stacks drifted from their templates",
                environment.name.as_deref().unwrap_or("(unnamed)")
            ),
            remedy: "deploy it with `deployer up` without --hotswap or --watch".into(),
        });
    }
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
        hotswap: args.hotswap,
    };
    match &ctx.target {
        Target::Local(local) if args.watch => {
            let session = local.start(&ctx.run, &selection, &options).await?;
            crate::watch::run(&ctx.run, Redeploy::Local(local, session), &selection, &options).await
        }
        Target::Aws(aws) if args.watch => {
            aws.up(&ctx.run, &selection, &options).await?;
            let options = UpOptions { hotswap: true, ..options };
            crate::watch::run(&ctx.run, Redeploy::Aws(aws), &selection, &options).await
        }
        target => target.up(&ctx.run, &selection, &options).await,
    }
}
