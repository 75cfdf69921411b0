//! `replay <execution> --local`: runs a recorded execution's history against the current code of its function
//! and reports whether it makes the same decisions; exits non-zero when it does not.

use local::service::replay::Verdict;

use crate::cli::ReplayArgs;
use crate::durable::Selector;
use crate::error::{DeployerError, Result};
use crate::io::Event;
use crate::target::Target;

use super::Context;
use super::executions::resolve_execution;

/// Runs `replay`.
pub(crate) async fn run(ctx: &Context, args: &ReplayArgs) -> Result<()> {
    let Target::Local(local) = &ctx.target else {
        return Err(DeployerError::Unsupported {
            what: "`deployer replay` runs the current code on the local target; replaying an execution recorded in \
                   AWS is not supported yet"
                .into(),
            remedy: "add --local to replay an execution of the local target".into(),
        });
    };
    let selector = Selector::parse(&args.execution)?;
    let (_, arn) = resolve_execution(ctx, &args.target, &selector).await?;
    let report = local.replay(&arn).await?;
    let failure = match &report.verdict {
        Verdict::Same { .. } => None,
        Verdict::Diverged { detail, .. } => Some(format!(
            "the current code diverges from {arn}: {detail}; an execution in flight would fail on it (keep the old \
             order and names for executions started before the change, or let them finish first)"
        )),
        Verdict::Failed { detail } => Some(format!("cannot replay {arn}: {detail}")),
    };
    ctx.run.host.notify(Event::Replay { report });
    failure.map_or(Ok(()), |message| Err(DeployerError::ReplayDiverged(message)))
}
