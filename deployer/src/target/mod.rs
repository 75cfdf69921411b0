//! Where the stacks run: AWS, or the local target on this machine. The target is chosen once, from `--local`;
//! commands ask it to deploy, remove, show or connect, and none of them tests the flag.
//!
//! Both targets serve the same Lambda and durable execution APIs, so once connected, `invoke`, `executions`,
//! `history`, `stop` and `callback` run the same code on either ([`Target::connect`] gives the clients and
//! [`Target::deployed`] the deployed names of a stack's resources).

pub(crate) mod aws;
pub(crate) mod aws_bootstrap;
mod aws_logs;
mod aws_status;
pub(crate) mod local;
mod not_emulated;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::app::Selection;
use crate::aws::Aws;
use crate::cli::UpArgs;
use crate::commands::Context;
use crate::error::Result;
use crate::functions::FunctionSpec;

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
    pub(crate) async fn up(&self, ctx: &Context, selection: &Selection, args: &UpArgs) -> Result<()> {
        match self {
            Self::Aws(aws) => aws.up(ctx, selection, args).await,
            Self::Local(local) => local.up(ctx, selection, args).await,
        }
    }

    /// Removes the selected stacks, or what `scope` says (`down`).
    pub(crate) async fn down(&self, ctx: &Context, selection: &Selection, scope: DownScope) -> Result<()> {
        match self {
            Self::Aws(aws) => aws.down(ctx, selection, scope).await,
            Self::Local(local) => local.down(ctx, selection, scope).await,
        }
    }

    /// Shows what `up` would change (`diff`).
    pub(crate) async fn diff(&self, ctx: &Context, selection: &Selection) -> Result<()> {
        match self {
            Self::Aws(aws) => aws.diff(ctx, selection).await,
            Self::Local(_) => local::LocalTarget::diff(),
        }
    }

    /// Shows the selected stacks as deployed (`status`).
    pub(crate) async fn status(&self, ctx: &Context, selection: &Selection) -> Result<()> {
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
    pub(crate) async fn logs(&self, ctx: &Context, aws: &Aws, request: LogsRequest<'_>) -> Result<()> {
        match self {
            Self::Aws(_) => aws_logs::logs(ctx, aws, request).await,
            Self::Local(local) => local.logs(ctx, request).await,
        }
    }
}
