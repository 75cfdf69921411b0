//! `replay <execution>`: runs a recorded execution's history against the current code of its function on the
//! local target and reports whether it makes the same decisions; exits non-zero when it does not. With `--local`
//! the execution is one of the local target's; without, one of AWS's, read through `GetDurableExecutionHistory`
//! and replayed against the same stack's function deployed locally (`up --local`).

use local::service::replay::Verdict;

use local::engine::model::ErrorObject;
use local::protocol::RecordedExecution;

use crate::cli::ReplayArgs;
use crate::durable::{Selector, api};
use crate::error::{DeployerError, Result};
use crate::io::Event;
use crate::target::Target;
use crate::target::local::LocalTarget;

use super::executions::resolve_execution;
use super::{Context, Want, resolve_function};

/// Runs `replay`.
pub(crate) async fn run(ctx: &Context, args: &ReplayArgs) -> Result<()> {
    let selector = Selector::parse(&args.execution)?;
    let report = match &ctx.target {
        Target::Local(local) => {
            let (_, arn) = resolve_execution(ctx, &args.target, &selector).await?;
            local.replay(&arn).await?
        }
        Target::Aws(_) => {
            let resolved = resolve_function(ctx, &args.target, Want::Durable).await?;
            let arn = match &selector {
                Selector::Arn(arn) => arn.clone(),
                selector => api::resolve(&resolved.aws.lambda, &resolved.name, selector).await?,
            };
            let detail = api::get_execution(&resolved.aws.lambda, &arn).await?;
            let status = serde_json::from_value(serde_json::json!(detail.status)).map_err(|_| {
                DeployerError::Build(format!("{arn} has a status this deployer does not know: {}", detail.status))
            })?;
            let recorded = RecordedExecution {
                function: String::new(),
                status,
                result: detail.result.clone(),
                error: detail.error.as_ref().map(|e| ErrorObject {
                    error_type: e.error_type.clone(),
                    error_message: e.message.clone(),
                    error_data: e.data.clone(),
                    stack_trace: Some(e.stack_trace.clone()).filter(|t| !t.is_empty()),
                }),
                events: api::recorded_history(&resolved.aws.lambda, &arn).await?,
            };
            let local = LocalTarget::new(&ctx.run.workspace);
            local.replay_recorded(&arn, &resolved.spec.stack, &resolved.spec.logical_id, recorded).await?
        }
    };
    let arn = report.execution.clone();
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
