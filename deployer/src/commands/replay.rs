//! `replay <execution>`: runs a recorded execution's history against the current code of its function on the
//! local target and reports whether it makes the same decisions; exits non-zero when it does not. With `--local`
//! the execution is one of the local target's; without, one of AWS's, read through `GetDurableExecutionHistory`
//! and replayed against the same stack's function deployed locally (`up --local`).

use local::service::replay::{ReplayAnswer, Verdict};

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
    let (local, arn, recorded) = match &ctx.target {
        Target::Local(_) => {
            let (_, arn) = resolve_execution(ctx, &args.target, &selector).await?;
            (LocalTarget::new(&ctx.run.workspace), arn, None)
        }
        Target::Aws(_) => {
            let resolved = resolve_function(ctx, &args.target, Want::Durable).await?;
            let arn = match &selector {
                Selector::Arn(arn) => arn.clone(),
                selector => api::resolve(&resolved.aws.lambda, &resolved.name, selector).await?,
            };
            let local = LocalTarget::new(&ctx.run.workspace);
            let function = local.function_name(&resolved.spec.stack, &resolved.spec.logical_id, &arn)?;
            let recorded = recorded_on_aws(&resolved.aws, &arn, function).await?;
            (local, arn, Some(recorded))
        }
    };
    let report = if args.wait_for_debugger {
        match local.replay_held(&arn, recorded).await? {
            ReplayAnswer::Report(report) => report,
            ReplayAnswer::Held(held) => {
                ctx.run.host.notify(Event::ReplayHeld { execution: arn.clone(), pid: held.pid });
                let mut line = String::new();
                tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line))
                    .await
                    .map_err(|e| DeployerError::Build(format!("cannot wait for Enter: {e}")))?
                    .map_err(|e| DeployerError::Build(format!("cannot read Enter from the terminal: {e}")))?;
                local.release_replay(&held.session).await?
            }
        }
    } else {
        match recorded {
            Some(recorded) => local.replay_recorded(&arn, recorded).await?,
            None => local.replay(&arn).await?,
        }
    };
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

/// An AWS execution as the local target replays it: its status, result or error, and its history with data.
async fn recorded_on_aws(aws: &crate::aws::Aws, arn: &str, function: String) -> Result<RecordedExecution> {
    let detail = api::get_execution(&aws.lambda, arn).await?;
    let status = serde_json::from_value(serde_json::json!(detail.status)).map_err(|_| {
        DeployerError::Build(format!("{arn} has a status this deployer does not know: {}", detail.status))
    })?;
    Ok(RecordedExecution {
        function,
        status,
        result: detail.result.clone(),
        error: detail.error.as_ref().map(|e| ErrorObject {
            error_type: e.error_type.clone(),
            error_message: e.message.clone(),
            error_data: e.data.clone(),
            stack_trace: Some(e.stack_trace.clone()).filter(|t| !t.is_empty()),
        }),
        events: api::recorded_history(&aws.lambda, arn).await?,
    })
}
