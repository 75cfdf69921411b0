//! Where the stacks run: AWS, or the local target on this machine. The target is chosen once, from `--local`;
//! commands ask it to deploy, remove, show or connect, and none of them tests the flag.
//!
//! Both targets serve the same Lambda and durable execution APIs, so once connected, `invoke`, `executions`,
//! `history`, `stop` and `callback` run the same code on either ([`Target::connect`] gives the clients and
//! [`Target::deployed`] the deployed names of a stack's resources).

pub(crate) mod aws;
pub(crate) mod aws_bootstrap;
mod aws_hotswap;
mod aws_logs;
mod aws_status;
pub(crate) mod local;
mod not_emulated;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use constructs::Architecture;

use crate::app::Selection;
use crate::aws::Aws;
use crate::cfn::approval::RequireApproval;
use crate::error::{DeployerError, Result};
use crate::functions::FunctionSpec;
use crate::io::{Event, Host};
use crate::workspace::Workspace;

/// What a target's operations run with, whichever command asks: where output goes, the workspace, and the global
/// options a target reads. Commands make it from the command line; a target never reads the CLI's types.
pub(crate) struct TargetContext {
    /// Where output goes.
    pub(crate) host: Arc<dyn Host>,
    /// The cargo workspace.
    pub(crate) workspace: Workspace,
    /// The AWS profile (`--profile`): the local target hands its credentials to the functions.
    pub(crate) profile: Option<String>,
    /// The region `--region` names, when it does: the local target's ARNs use it.
    pub(crate) region: Option<String>,
    /// The functions' architecture.
    pub(crate) architecture: Architecture,
    /// Which bootstrap the app deploys with.
    pub(crate) qualifier: String,
}

/// How `up` deploys, on either target.
#[derive(Debug, Clone)]
pub(crate) struct UpOptions {
    /// When a change set waits for the user's approval (AWS).
    pub(crate) require_approval: RequireApproval,
    /// Where the stacks' outputs are also written, as JSON.
    pub(crate) outputs_file: Option<PathBuf>,
    /// The bootstrap's execution role policies as given now (AWS; empty: as chosen before, else the default).
    pub(crate) execution_policies: Vec<String>,
    /// The local target fires waits, retry delays and callback timeouts at once (`--skip-time`).
    pub(crate) skip_time: bool,
    /// The local target's clock.
    pub(crate) clock: ::local::ClockMode,
    /// Give the local functions placeholder credentials, not the user's.
    pub(crate) no_credentials: bool,
    /// Update only function code through the Lambda API when that is all that changed (AWS).
    pub(crate) hotswap: bool,
}

/// AWS, or the local target.
pub(crate) enum Target {
    /// CloudFormation, S3, Lambda and CloudWatch Logs in an AWS account.
    Aws(aws::AwsTarget),
    /// The local service on this machine.
    Local(local::LocalTarget),
}

/// What a stack holds once deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Deployed {
    /// Each resource's physical id (a function's name, an alias's ARN, a log group's name) by logical id.
    pub(crate) physical: BTreeMap<String, String>,
    /// When the stack last changed, when the target knows.
    pub(crate) last_changed: Option<SystemTime>,
}

/// What `down` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DownScope {
    /// The selected stacks.
    Selected,
    /// No stack was named: on AWS the pattern's stack, on the local target everything.
    Default,
    /// Every stack of the app and the bootstrap stack (`--all`).
    All,
}

/// What `logs` reads.
pub(crate) struct LogsRequest<'a> {
    /// The functions, with their deployed names.
    pub(crate) functions: Vec<(FunctionSpec, String)>,
    /// Where their stack's resources are.
    pub(crate) deployed: &'a Deployed,
    /// Only lines this recent.
    pub(crate) since: Option<Duration>,
    /// Keep reading.
    pub(crate) follow: bool,
    /// Only lines naming this execution ARN (or its id).
    pub(crate) execution: Option<String>,
}

impl Target {
    /// The target `--local` selects.
    pub(crate) fn new(local: bool, workspace: &crate::workspace::Workspace, options: crate::aws::AwsOptions) -> Self {
        if local { Self::Local(local::LocalTarget::new(workspace)) } else { Self::Aws(aws::AwsTarget::new(options)) }
    }

    /// ` --local` for the local target, nothing for AWS: what a command printed in advice needs to run here.
    pub(crate) fn flag(&self) -> &'static str {
        match self {
            Self::Aws(_) => "",
            Self::Local(_) => " --local",
        }
    }

    /// Deploys the selected stacks (`up`).
    pub(crate) async fn up(&self, ctx: &TargetContext, selection: &Selection, args: &UpOptions) -> Result<()> {
        match self {
            Self::Aws(aws) => aws.up(ctx, selection, args).await,
            Self::Local(local) => local.up(ctx, selection, args).await,
        }
    }

    /// Removes the selected stacks, or what `scope` says (`down`).
    pub(crate) async fn down(&self, ctx: &TargetContext, selection: &Selection, scope: DownScope) -> Result<()> {
        match self {
            Self::Aws(aws) => aws.down(ctx, selection, scope).await,
            Self::Local(local) => local.down(ctx, selection, scope).await,
        }
    }

    /// Shows what `up` would change (`diff`).
    pub(crate) async fn diff(&self, ctx: &TargetContext, selection: &Selection) -> Result<()> {
        match self {
            Self::Aws(aws) => aws.diff(ctx, selection).await,
            Self::Local(_) => local::LocalTarget::diff(),
        }
    }

    /// Shows the selected stacks as deployed (`status`).
    pub(crate) async fn status(&self, ctx: &TargetContext, selection: &Selection) -> Result<()> {
        match self {
            Self::Aws(aws) => aws_status::status(aws, ctx, selection).await,
            Self::Local(local) => local.status(ctx, selection).await,
        }
    }

    /// Clients of the target's Lambda and durable execution APIs.
    pub(crate) async fn connect(&self) -> Result<Aws> {
        match self {
            Self::Aws(aws) => aws.connect().await,
            Self::Local(local) => local.connect().await,
        }
    }

    /// The deployed resources of stack `stack`; an error saying how to deploy it when it is not.
    pub(crate) async fn deployed(&self, aws: &Aws, stack: &str) -> Result<Deployed> {
        match self {
            Self::Aws(_) => aws::deployed(aws, stack).await,
            Self::Local(local) => local.deployed(stack),
        }
    }

    /// Whether a synchronous invoke denied a permission right after a deployment is tried again (IAM propagates
    /// new policies for a while on AWS; the local target has no IAM).
    pub(crate) fn retries_denials(&self) -> bool {
        matches!(self, Self::Aws(_))
    }

    /// Prints the functions' logs (`logs`).
    pub(crate) async fn logs(&self, ctx: &TargetContext, aws: &Aws, request: LogsRequest<'_>) -> Result<()> {
        match self {
            Self::Aws(_) => aws_logs::logs(ctx, aws, request).await,
            Self::Local(local) => local.logs(ctx, request).await,
        }
    }
}

/// Prints each stack's outputs and writes them all to `file` when asked.
pub(crate) fn report_outputs(
    ctx: &TargetContext,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    file: Option<&Path>,
) -> Result<()> {
    for (stack, values) in outputs {
        ctx.host.notify(Event::Outputs { stack: stack.clone(), outputs: values.clone() });
    }
    if let Some(path) = file {
        let mut text = serde_json::to_string_pretty(outputs).unwrap_or_default();
        text.push('\n');
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DeployerError::io("create", dir, e))?;
        }
        std::fs::write(path, text).map_err(|e| DeployerError::io("write", path, e))?;
    }
    Ok(())
}
